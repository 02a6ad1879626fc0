import { afterAll, beforeEach, expect, setDefaultTimeout, test } from "bun:test";
import { resolve } from "node:path";
import { sql } from "slonik";
import { z } from "zod";
import { countTokensByKey, insertOAuthAccount } from "../sql/oauth-accounts.ts";
import { insertUser } from "../sql/users.ts";
import { parseConfig } from "../src/config/index.ts";
import { createTokenCipher } from "../src/keys/token-encryption.ts";
import { rotateEncryptionKeys } from "../src/ops/rotate-keys.ts";
import {
  bindingOf,
  openAccountTokens,
  sealAccountTokens,
} from "../src/providers/provider-tokens.ts";
import { runCli, testKey } from "./support/cli.ts";
import { createTestDatabase, testLogger } from "./support/database.ts";
import { legacyV1Ciphertext } from "./support/legacy-token.ts";

// Subprocesses and hundreds of rows, one transaction each.
setDefaultTimeout(60_000);

const db = await createTestDatabase();
afterAll(() => db.drop());

const oldKeys = testKey("k1", 1);
const bothKeys = `${testKey("k2", 2)},${oldKeys}`;
const keysOf = (value: string) =>
  parseConfig({ TOKEN_ENCRYPTION_KEYS: value }).providers.TOKEN_ENCRYPTION_KEYS;
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
    out[row.id] = [
      await cipher.decrypt(row.access_token, bindingOf(row.id, "access_token")),
      await cipher.decrypt(row.refresh_token, bindingOf(row.id, "refresh_token")),
    ];
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
      const id = crypto.randomUUID();
      await insertOAuthAccount(tx, {
        id,
        userId: user.id,
        provider: "github",
        providerUserId: String(1000 + i),
        email: user.email,
        emailVerified: true,
        ...(await sealAccountTokens(cipher, id, {
          accessToken: `access-${i}`,
          refreshToken: `refresh-${i}`,
        })),
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

/** Accounts whose tokens were written before row binding: v1 under k1. */
async function legacyAccounts(count: number): Promise<string[]> {
  const ids: string[] = [];
  const k1 = new Uint8Array(32).fill(1);
  // One transaction: a user needs a sign-in method by COMMIT.
  await db.pool.transaction(async (tx) => {
    for (let i = 0; i < count; i++) {
      const user = await insertUser(tx, { email: `legacy${i}@example.com`, emailVerified: true });
      const account = await insertOAuthAccount(tx, {
        userId: user.id,
        provider: "github",
        providerUserId: String(5000 + i),
        email: user.email,
        emailVerified: true,
        encryptedAccessToken: await legacyV1Ciphertext("k1", k1, `legacy-access-${i}`),
        encryptedRefreshToken: await legacyV1Ciphertext("k1", k1, `legacy-refresh-${i}`),
        tokenType: "bearer",
        scope: null,
        expiresAt: null,
      });
      ids.push(account.id);
    }
  });
  return ids;
}

const storedTokens = () =>
  db.pool.any(sql.type(tokenRows)`
    SELECT id, access_token, refresh_token FROM oauth_accounts ORDER BY id`);

test("tokens written before row binding still open, and rotate-keys rewrites them bound to their row under the same key", async () => {
  await legacyAccounts(3);
  const cipher = await createTokenCipher(keysOf(oldKeys));
  for (const row of await storedTokens()) {
    expect(row.access_token).toStartWith("v1.k1.");
    expect((await openAccountTokens(cipher, row, testLogger)).accessToken).toStartWith(
      "legacy-access-",
    );
  }
  const plaintexts = await openedTokens(oldKeys);

  const result = await runCli(["rotate-keys", "--json"], env(oldKeys));
  expect(result.code).toBe(0);
  expect(JSON.parse(result.stdout)).toMatchObject({
    current_key: "k1",
    rows_rotated: 3,
    unreadable: 0,
    finished: true,
    after: { k1: 6 },
  });
  for (const row of await storedTokens()) {
    expect(row.access_token).toStartWith("v2.k1.");
    expect(row.refresh_token).toStartWith("v2.k1.");
  }
  expect(await openedTokens(oldKeys)).toEqual(plaintexts);
  const again = JSON.parse((await runCli(["rotate-keys", "--json"], env(oldKeys))).stdout);
  expect(again).toMatchObject({ rows_rotated: 0, finished: true });
});

test("a token copied into another row or column does not open there and reads as absent", async () => {
  await accountsUnderOldKey(2);
  const cipher = await createTokenCipher(keysOf(oldKeys));
  const [first, second] = await storedTokens();
  if (!first || !second) throw new Error("two accounts expected");
  // A database writer moves the first account's access token to the second
  // account, and into the first account's own refresh_token column.
  await db.pool.query(sql.unsafe`
    UPDATE oauth_accounts SET access_token = ${first.access_token} WHERE id = ${second.id}`);
  await db.pool.query(sql.unsafe`
    UPDATE oauth_accounts SET refresh_token = ${first.access_token} WHERE id = ${first.id}`);
  const [movedFirst, movedSecond] = await storedTokens();
  if (!movedFirst || !movedSecond) throw new Error("two accounts expected");

  expect(await openAccountTokens(cipher, movedSecond, testLogger)).toEqual({
    accessToken: null,
    refreshToken: expect.stringMatching(/^refresh-/),
  });
  expect(await openAccountTokens(cipher, movedFirst, testLogger)).toEqual({
    accessToken: expect.stringMatching(/^access-/),
    refreshToken: null,
  });
});

test("rotate-keys leaves a token copied from another row as it is and reports it as unreadable", async () => {
  await accountsUnderOldKey(2);
  const [first, second] = await storedTokens();
  if (!first || !second) throw new Error("two accounts expected");
  await db.pool.query(sql.unsafe`
    UPDATE oauth_accounts SET access_token = ${first.access_token} WHERE id = ${second.id}`);

  const result = await runCli(["rotate-keys", "--json"], env(bothKeys));
  expect(result.code).toBe(0);
  expect(JSON.parse(result.stdout)).toMatchObject({ rows_rotated: 2, unreadable: 1 });
  const after = await storedTokens();
  const moved = after.find((r) => r.id === second.id);
  // Not laundered into a ciphertext that would open for the second account.
  expect(moved?.access_token).toBe(first.access_token);
  expect(moved?.refresh_token).toStartWith("v2.k2.");
});
