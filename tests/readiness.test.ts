import { afterAll, expect, test } from "bun:test";
import { sql } from "slonik";
import { createDatabasePool } from "../src/db/pool.ts";
import { startTestApp } from "./support/app.ts";
import { createTestDatabase, testLogger } from "./support/database.ts";
import { startTcpProxy } from "./support/tcp-proxy.ts";

const db = await createTestDatabase();
const target = new URL(db.url);
const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
const proxied = new URL(db.url);
proxied.port = String(proxy.port);
const pool = await createDatabasePool({
  url: proxied.toString(),
  minPoolSize: 0,
  maxPoolSize: 4,
  connectionTimeoutMs: 1000,
  statementTimeoutMs: 5000,
  slowQueryMs: 1000,
  logger: testLogger,
});
const app = await startTestApp(pool);
afterAll(async () => {
  await app.close();
  proxy.close();
  await pool.end().catch(() => {});
  await db.drop();
});

test("/readyz follows the database: 200, then 503 while unreachable, then 200 again without a restart", async () => {
  expect((await app.request("/readyz")).status).toBe(200);

  proxy.cut();
  const down = await app.request("/readyz");
  expect(down.status).toBe(503);
  expect(down.headers.get("content-type")).toBe("application/problem+json");
  expect((await app.request("/healthz")).status).toBe(200);

  proxy.restore();
  let status = 0;
  for (let attempt = 0; attempt < 20 && status !== 200; attempt++) {
    status = (await app.request("/readyz")).status;
    if (status !== 200) await Bun.sleep(100);
  }
  expect(status).toBe(200);
});

test("/readyz is 503 while migrations are pending", async () => {
  const pending = await startTestApp(db.pool);
  await db.pool.query(sql.unsafe`DELETE FROM pgmigrations`);
  try {
    const response = await pending.request("/readyz");
    expect(response.status).toBe(503);
    expect(((await response.json()) as { detail: string }).detail).toContain("not applied");
  } finally {
    await pending.close();
  }
});
