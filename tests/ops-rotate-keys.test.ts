import { afterAll, beforeEach, expect, setDefaultTimeout, test } from "bun:test";
import { resolve } from "node:path";
import { sql } from "slonik";
import { z } from "zod";
import { countTokensByKey, insertOAuthAccount } from "../sql/oauth-accounts.ts";
import { insertUser } from "../sql/users.ts";
import { createTokenCipher } from "../src/auth/token-encryption.ts";
import { parseConfig } from "../src/config.ts";
import { rotateEncryptionKeys } from "../src/ops/rotate-keys.ts";
import { runCli, testKey } from "./support/cli.ts";
import { createTestDatabase } from "./support/database.ts";

// Subprocesses and hundreds of rows, one transaction each.
setDefaultTimeout(60_000);

const db = await createTestDatabase();
afterAll(() => db.drop());

const oldKeys = testKey("k1", 1);
const bothKeys = `${testKey("k2", 2)},${oldKeys}`;
const keysOf = (value: string) =>
  parseConfig({ TOKEN_ENCRYPTION_KEYS: value }).TOKEN_ENCRYPTION_KEYS;
const env = (keys: string) => ({
  DATABASE_URL: db.url,
  NODE_ENV: "test",
  LOG_LEVEL: "silent",
  TOKEN_ENCRYPTION_KEYS: keys,
});

const tokenRows = z.object({ id: z.string(), access_token: z.string(), refresh_token: z.string() });

/** Every stored token opened with the given keys, by account id. */
async function openedTokens(keys: string): Promise<Record<string, [string, string]>> {
  const cipher = await createTokenCipher(keysOf(keys));
  const rows = await db.pool.any(sql.type(tokenRows)`
    SELECT id, access_token, refresh_token FROM oauth_accounts ORDER BY id`);
  const out: Record<string, [string, string]> = {};
  for (const row of rows) {
    out[row.id] = [await cipher.decrypt(row.access_token), await cipher.decrypt(row.refresh_token)];
  }
  return out;
}

const perKey = async () =>
  Object.fromEntries((await countTokensByKey(db.pool)).map((r) => [r.key_id, r.tokens]));

beforeEach(async () => {
  await db.pool.query(sql.unsafe`TRUNCATE users CASCADE`);
});

async function accountsUnderOldKey(count: number) {
  const cipher = await createTokenCipher(keysOf(oldKeys));
  await db.pool.transaction(async (tx) => {
    for (let i = 0; i < count; i++) {
      const user = await insertUser(tx, { email: `rotate${i}@example.com`, emailVerified: true });
      await insertOAuthAccount(tx, {
        userId: user.id,
        provider: "github",
        providerUserId: String(1000 + i),
        email: user.email,
        emailVerified: true,
        encryptedAccessToken: await cipher.encrypt(`access-${i}`),
        encryptedRefreshToken: await cipher.encrypt(`refresh-${i}`),
        tokenType: "bearer",
        scope: null,
        expiresAt: null,
      });
    }
  });
}

test("rotate-keys moves every token to the first key, counts per key before and after, and a second run does nothing", async () => {
  await accountsUnderOldKey(6);
  const plaintexts = await openedTokens(oldKeys);

  const result = await runCli(["rotate-keys", "--json"], env(bothKeys));
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  const report = JSON.parse(result.stdout);
  expect(report).toMatchObject({
    current_key: "k2",
    before: { k1: 12 },
    after: { k2: 12 },
    rows_rotated: 6,
    finished: true,
  });
  // The new key alone opens every token, to the same plaintext.
  expect(await openedTokens(testKey("k2", 2))).toEqual(plaintexts);

  const again = JSON.parse((await runCli(["rotate-keys", "--json"], env(bothKeys))).stdout);
  expect(again).toMatchObject({ rows_rotated: 0, before: { k2: 12 }, after: { k2: 12 } });
});

test("an interrupted rotation (stopped after two batches) finishes on the next run", async () => {
  await accountsUnderOldKey(5);
  const plaintexts = await openedTokens(oldKeys);
  const partial = await rotateEncryptionKeys({
    pool: db.pool,
    keys: keysOf(bothKeys),
    batchSize: 1,
    maxBatches: 2,
  });
  expect(partial).toMatchObject({ rows_rotated: 2, finished: false, after: { k1: 6, k2: 4 } });

  const rest = JSON.parse(
    (await runCli(["rotate-keys", "--batch-size", "2", "--json"], env(bothKeys))).stdout,
  );
  expect(rest).toMatchObject({ rows_rotated: 3, finished: true, after: { k2: 10 } });
  expect(await openedTokens(testKey("k2", 2))).toEqual(plaintexts);
});

test("a rotation killed mid-way loses no token and the next run finishes it", async () => {
  await accountsUnderOldKey(150);
  const plaintexts = await openedTokens(oldKeys);
  const child = Bun.spawn(
    [
      process.execPath,
      resolve(import.meta.dir, "../src/cli/main.ts"),
      "rotate-keys",
      "--batch-size",
      "1",
    ],
    { env: { PATH: process.env.PATH ?? "", ...env(bothKeys) }, stdout: "ignore", stderr: "ignore" },
  );
  // Kill it as soon as it has committed some work.
  while (((await perKey()).k2 ?? 0) === 0 && child.exitCode === null) await Bun.sleep(5);
  child.kill("SIGKILL");
  await child.exited;

  // Every token still opens (old or new key): no half-written row.
  expect(await openedTokens(bothKeys)).toEqual(plaintexts);
  const result = JSON.parse((await runCli(["rotate-keys", "--json"], env(bothKeys))).stdout);
  expect(result.finished).toBe(true);
  expect(await perKey()).toEqual({ k2: 300 });
  expect(await openedTokens(testKey("k2", 2))).toEqual(plaintexts);
});

test("refuses to start when a stored token names a key that is not configured, and changes nothing", async () => {
  await accountsUnderOldKey(3);
  const before = await db.pool.anyFirst(
    sql.unsafe`SELECT access_token FROM oauth_accounts ORDER BY id`,
  );
  const result = await runCli(["rotate-keys"], env(testKey("k2", 2)));
  expect(result.code).toBe(1);
  expect(result.stderr.trim().split("\n")).toHaveLength(1);
  expect(result.stderr).toContain("k1: 6 tokens");
  expect(
    await db.pool.anyFirst(sql.unsafe`SELECT access_token FROM oauth_accounts ORDER BY id`),
  ).toEqual(before);
});

test("a bad --batch-size is one clear line and exit 1", async () => {
  const result = await runCli(["rotate-keys", "--batch-size", "0"], env(bothKeys));
  expect(result.code).toBe(1);
  expect(result.stderr.trim()).toBe("gatehouse: --batch-size expects a positive integer, not '0'");
});
