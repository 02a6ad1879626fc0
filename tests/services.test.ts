import { afterAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "slonik";
import { z } from "zod";
import { parseConfig } from "../src/config/index.ts";
import { createServices } from "../src/services.ts";
import { createTestDatabase, testLogger } from "./support/database.ts";

// createServices is the one place main.ts and the tests build what the
// routes share; these check what it builds once and what it leaves for later.

const sqlOne = sql.type(z.object({ one: z.number() }))`SELECT 1 AS one`;
const binding = { table: "oauth_accounts", row: "1", column: "access_token" };

const db = await createTestDatabase();
const dataDir = await mkdtemp(join(tmpdir(), "gatehouse-services-"));
afterAll(async () => {
  await db.drop();
  await rm(dataDir, { recursive: true, force: true });
});

describe("createServices", () => {
  test("the provider-token key is made at the first provider sign-in, once, not at start", async () => {
    const config = parseConfig({ NODE_ENV: "development", DATA_DIR: dataDir, AUTH_CACHE_TTL: "0" });
    const services = await createServices(config, { pool: db.pool, logger: testLogger });
    try {
      const keyFile = join(dataDir, "token-encryption.key");
      expect(existsSync(keyFile)).toBe(false);
      const first = await services.tokenCipher();
      expect(existsSync(keyFile)).toBe(true);
      expect(await services.tokenCipher()).toBe(first);
      const sealed = await first.encrypt("provider token", binding);
      expect(await first.decrypt(sealed, binding)).toBe("provider token");
    } finally {
      await services.close();
    }
  });

  test("with AUTH_CACHE_TTL the credential cache is started; close() leaves the pool to whoever opened it", async () => {
    const config = parseConfig({ NODE_ENV: "test", AUTH_CACHE_TTL: "1s" });
    const services = await createServices(config, { pool: db.pool, logger: testLogger });
    expect(services.credentialCache).toBeDefined();
    expect(services.expectedMigrations.length).toBeGreaterThan(0);
    await services.close();
    expect(await db.pool.oneFirst(sqlOne)).toBe(1);
  });

  test("the providers configured with credentials are built once and shared by every route", async () => {
    const config = parseConfig({
      NODE_ENV: "test",
      AUTH_CACHE_TTL: "0",
      GITHUB_CLIENT_ID: "id",
      GITHUB_CLIENT_SECRET: "secret",
    });
    const services = await createServices(config, { pool: db.pool, logger: testLogger });
    try {
      expect([...services.signInProviders.keys()]).toEqual(["github"]);
    } finally {
      await services.close();
    }
  });
});
