import { createDatabasePool } from "../../src/db/pool.ts";
import { startTestApp } from "./app.ts";
import { createTestDatabase, testLogger } from "./database.ts";
import { proxyDatabase } from "./tcp-proxy.ts";

/**
 * An app whose pool reaches its test database through a proxy the test can
 * cut and restore, with short timeouts so an unreachable database shows at once.
 */
export async function startAppBehindProxy() {
  const db = await createTestDatabase();
  const { proxy, url } = await proxyDatabase(db.url);
  const pool = await createDatabasePool({
    url,
    minPoolSize: 0,
    maxPoolSize: 4,
    connectionTimeoutMs: 1000,
    statementTimeoutMs: 5000,
    slowQueryMs: 1000,
    logger: testLogger,
  });
  const app = await startTestApp(pool);
  return {
    db,
    proxy,
    pool,
    app,
    close: async () => {
      await app.close();
      proxy.close();
      await pool.end().catch(() => {});
      await db.drop();
    },
  };
}
