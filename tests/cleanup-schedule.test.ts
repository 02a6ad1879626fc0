import { afterAll, expect, test } from "bun:test";
import { sql } from "slonik";
import { z } from "zod";
import { denyAccessToken } from "../sql/revoked-access-tokens.ts";
import { parseConfig } from "../src/config/index.ts";
import { startCleanupSchedule } from "../src/ops/cleanup-schedule.ts";
import { createTestDatabase, testLogger } from "./support/database.ts";

const db = await createTestDatabase();
afterAll(() => db.drop());

test("the server's schedule runs cleanup every CLEANUP_INTERVAL until stopped", async () => {
  await denyAccessToken(db.pool, {
    jti: "expired",
    userId: null,
    expiresAt: new Date(Date.now() - 60_000),
  });
  const config = parseConfig({
    CLEANUP_INTERVAL: "100ms",
    BACKUP_DIR: "/nonexistent/gatehouse-backups",
  });
  const schedule = startCleanupSchedule({ pool: db.pool, config, logger: testLogger });
  const count = () =>
    db.pool.oneFirst(
      sql.type(
        z.object({ count: z.number() }),
      )`SELECT count(*)::int AS count FROM revoked_access_tokens`,
    );
  for (let i = 0; i < 100 && (await count()) > 0; i++) await Bun.sleep(50);
  expect(await count()).toBe(0);
  await schedule.stop();

  await denyAccessToken(db.pool, {
    jti: "after-stop",
    userId: null,
    expiresAt: new Date(Date.now() - 60_000),
  });
  await Bun.sleep(400);
  expect(await count()).toBe(1);
});
