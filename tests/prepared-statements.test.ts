import { afterAll, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { type DatabasePool, sql } from "slonik";
import { z } from "zod";
import { findUnrevokedSessionsWithUsers } from "../sql/session-checks.ts";
import { insertSession } from "../sql/sessions.ts";
import { insertUser } from "../sql/users.ts";
import { parseConfig } from "../src/config/index.ts";
import { createDatabasePool } from "../src/db/pool.ts";
import { createTestDatabase, testLogger } from "./support/database.ts";

const { url, pool, drop } = await createTestDatabase();
afterAll(drop);

const user = await insertUser(pool, {
  email: "prepared@example.com",
  emailVerified: true,
  passwordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
});
const tokenHash = createHash("sha256").update(randomBytes(32)).digest();
await insertSession(pool, {
  tokenHash,
  userId: user.id,
  expiresAt: new Date(Date.now() + 3_600_000),
  idleTimeoutSeconds: 3600,
  ip: null,
  userAgent: null,
});

/** The session check on one connection, then what that connection has prepared. */
async function preparedAfterSessionCheck(db: DatabasePool) {
  return db.connect(async (connection) => {
    const [found] = await findUnrevokedSessionsWithUsers(connection, [tokenHash]);
    expect(found?.user_id).toBe(user.id);
    return connection.anyFirst(
      sql.type(z.object({ name: z.string() }))`SELECT name FROM pg_prepared_statements`,
    );
  });
}

describe("prepared statements", () => {
  test("the per-request session check is a named prepared statement by default", async () => {
    expect(await preparedAfterSessionCheck(pool)).toContain("gatehouse_session_check");
  });

  test("with DB_PREPARED_STATEMENTS=false the same check runs unnamed (for poolers that cannot keep them)", async () => {
    const unnamed = await createDatabasePool({
      url,
      minPoolSize: 0,
      maxPoolSize: 1,
      connectionTimeoutMs: 5000,
      statementTimeoutMs: 30000,
      slowQueryMs: 1000,
      logger: testLogger,
      preparedStatements: false,
    });
    try {
      expect(await preparedAfterSessionCheck(unnamed)).toEqual([]);
    } finally {
      await unnamed.end();
    }
  });

  test("DB_PREPARED_STATEMENTS defaults to on and takes false", () => {
    expect(parseConfig({}).database.DB_PREPARED_STATEMENTS).toBe(true);
    expect(parseConfig({ DB_PREPARED_STATEMENTS: "false" }).database.DB_PREPARED_STATEMENTS).toBe(
      false,
    );
  });
});
