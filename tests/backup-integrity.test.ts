import { beforeEach, expect, setDefaultTimeout, test } from "bun:test";
import { readFile, writeFile } from "node:fs/promises";
import { sql } from "slonik";
import { z } from "zod";
import { serviceTables } from "../sql/database-backup.ts";
import { insertUser } from "../sql/users.ts";
import { sha256OfFile } from "../src/ops/backup-file.ts";
import { cliTestSetup, resignBackup, runCli, testBackupKey } from "./support/cli.ts";
import { testPasswordHash } from "./support/sign-in.ts";

// Backups are authenticated, not only checked: a file planted in BACKUP_DIR
// by someone without BACKUP_SIGNING_KEYS does not restore, and a restore
// writes into the service's own tables only.

setDefaultTimeout(60_000);

const { db, env } = await cliTestSetup("backup-integrity");

const userRow = z.object({ email: z.string(), role: z.string(), is_whitelisted: z.boolean() });
const users = () =>
  db.pool.any(sql.type(userRow)`SELECT email, role, is_whitelisted FROM users ORDER BY email`);

beforeEach(async () => {
  await db.pool.query(sql.unsafe`TRUNCATE users CASCADE`);
  await insertUser(db.pool, {
    email: "mallory@example.com",
    emailVerified: true,
    passwordHash: testPasswordHash,
  });
});

/** A plain-text backup made by the CLI with the configured key. */
async function backup(): Promise<string> {
  const result = await runCli(["backup", "--no-compress", "--json"], env);
  expect(result.code).toBe(0);
  return (JSON.parse(result.stdout) as { path: string }).path;
}

/**
 * What someone who can write to BACKUP_DIR but has no key can do: rewrite the
 * rows (mallory becomes an approved admin) and make the checksum and counts
 * match again.
 */
async function plantAdmin(file: string) {
  const text = await readFile(file, "utf8");
  const changed = text.replace(
    /("email":"mallory@example.com".*?)"role":"user"(.*?)"is_whitelisted":false/,
    '$1"role":"admin"$2"is_whitelisted":true',
  );
  expect(changed).not.toBe(text);
  await writeFile(file, changed);
  const metadata = JSON.parse(await readFile(`${file}.json`, "utf8"));
  metadata.sha256 = await sha256OfFile(file);
  metadata.size_bytes = Buffer.byteLength(changed);
  await writeFile(`${file}.json`, JSON.stringify(metadata));
}

async function expectRefused(file: string, args: string[], why: string) {
  const before = await users();
  await db.pool.query(sql.unsafe`UPDATE users SET full_name = 'after the backup'`);
  const result = await runCli(["restore", file, "--yes", ...args], env);
  expect(result.stderr.trim().split("\n")).toEqual([
    expect.stringContaining(`gatehouse: refusing to restore: ${why}`),
  ]);
  expect(result.code).toBe(1);
  expect(await users()).toEqual(before);
  expect(
    await db.pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM users WHERE full_name IS NULL`),
  ).toBe(0);
}

test("a signed backup restores", async () => {
  const file = await backup();
  const metadata = JSON.parse(await readFile(`${file}.json`, "utf8"));
  expect(metadata.signature).toMatchObject({ algorithm: "hmac-sha256", key_id: "b1" });
  await db.pool.query(sql.unsafe`TRUNCATE users CASCADE`);

  const result = await runCli(["restore", file, "--yes"], env);
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  expect(await users()).toEqual([
    { email: "mallory@example.com", role: "user", is_whitelisted: false },
  ]);
});

test("a backup tampered with to restore an admin is refused even with its checksum rewritten", async () => {
  const file = await backup();
  await plantAdmin(file);
  await expectRefused(file, [], "the backup's signature does not match");
  expect(await users()).toEqual([
    { email: "mallory@example.com", role: "user", is_whitelisted: false },
  ]);
});

test("an unsigned backup is refused without --trust-unsigned and restores with it", async () => {
  const file = await backup();
  const metadata = JSON.parse(await readFile(`${file}.json`, "utf8"));
  delete metadata.signature;
  await writeFile(`${file}.json`, JSON.stringify(metadata));
  await expectRefused(file, [], "the backup is not signed");

  await db.pool.query(sql.unsafe`TRUNCATE users CASCADE`);
  const result = await runCli(["restore", file, "--yes", "--trust-unsigned"], env);
  expect(result.code).toBe(0);
  expect(result.stderr.trim()).toBe(
    "gatehouse: --trust-unsigned: not checking who made this backup",
  );
  expect((await users()).map((u) => u.email)).toEqual(["mallory@example.com"]);
});

test("a backup signed with a key BACKUP_SIGNING_KEYS does not hold is refused", async () => {
  const file = await backup();
  await resignBackup(file, { id: "elsewhere", key: new Uint8Array(32).fill(9) });
  await expectRefused(file, [], "the backup is signed with key 'elsewhere'");
});

test("a backup signed with an older key still in BACKUP_SIGNING_KEYS restores", async () => {
  const file = await backup();
  const newKey = `b2:${Buffer.alloc(32, 8).toString("base64")}`;
  const rotated = { ...env, BACKUP_SIGNING_KEYS: `${newKey},${env.BACKUP_SIGNING_KEYS}` };
  const result = await runCli(["restore", file, "--yes"], rotated);
  expect(result.code).toBe(0);
  const next = await runCli(["backup", "--json"], rotated);
  expect(JSON.parse(next.stdout).signature.key_id).toBe("b2");
});

test("a signed backup that holds a table Gatehouse does not own is refused", async () => {
  const file = await backup();
  // Even the key's holder cannot make restore write outside the service's tables.
  const lines = (await readFile(file, "utf8")).trimEnd().split("\n");
  const trailer = JSON.parse((lines.pop() ?? "").slice(1));
  const foreign = [
    `#${JSON.stringify({ table: "pgmigrations", partitions: [] })}`,
    JSON.stringify({ id: 999, name: "9999_forged", run_on: "2026-01-01T00:00:00" }),
    `#${JSON.stringify({ end: "pgmigrations", rows: 1 })}`,
  ];
  trailer.tables.pgmigrations = 1;
  await writeFile(file, `${[...lines, ...foreign, `#${JSON.stringify(trailer)}`].join("\n")}\n`);
  const metadata = JSON.parse(await readFile(`${file}.json`, "utf8"));
  metadata.tables.pgmigrations = 1;
  metadata.sha256 = await sha256OfFile(file);
  await writeFile(`${file}.json`, JSON.stringify(metadata));
  await resignBackup(file, testBackupKey);
  await expectRefused(file, [], "the backup holds tables Gatehouse does not own: pgmigrations");
});

test("a signed backup whose partition would create a table outside its parent's name is refused", async () => {
  const file = await backup();
  const text = await readFile(file, "utf8");
  const changed = text.replace(/"name":"audit_events_default"/, '"name":"users_shadow"');
  expect(changed).not.toBe(text);
  await writeFile(file, changed);
  const metadata = JSON.parse(await readFile(`${file}.json`, "utf8"));
  metadata.sha256 = await sha256OfFile(file);
  await writeFile(`${file}.json`, JSON.stringify(metadata));
  await resignBackup(file, testBackupKey);
  await expectRefused(file, [], `${file}: partition users_shadow is not named after audit_events`);
  expect(await db.pool.oneFirst(sql.unsafe`SELECT to_regclass('users_shadow')::text AS t`)).toBe(
    null,
  );
});

test("a table another program keeps in the same schema is neither backed up nor touched by restore", async () => {
  await db.pool.query(sql.unsafe`CREATE TABLE IF NOT EXISTS other_app_notes (note text)`);
  await db.pool.query(sql.unsafe`TRUNCATE other_app_notes`);
  await db.pool.query(sql.unsafe`INSERT INTO other_app_notes VALUES ('keep me')`);
  const file = await backup();
  const metadata = JSON.parse(await readFile(`${file}.json`, "utf8"));
  expect(Object.keys(metadata.tables).sort()).toEqual([...serviceTables].sort());

  const result = await runCli(["restore", file, "--yes"], env);
  expect(result.code).toBe(0);
  expect(await db.pool.anyFirst(sql.unsafe`SELECT note FROM other_app_notes`)).toEqual(["keep me"]);
});

test("the service's table list is every permanent table the migrations create", async () => {
  const created = await db.pool.anyFirst(sql.type(z.object({ name: z.string() }))`
    SELECT c.relname AS name FROM pg_class c
    WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
      AND NOT c.relispartition AND c.relpersistence = 'p'
      AND c.relname NOT IN ('pgmigrations', 'other_app_notes')
    ORDER BY 1`);
  expect([...created]).toEqual([...serviceTables].sort());
});

test("in production, backup without BACKUP_SIGNING_KEYS is refused in one line", async () => {
  const { BACKUP_SIGNING_KEYS: _unset, ...rest } = env;
  const result = await runCli(["backup"], {
    ...rest,
    NODE_ENV: "production",
    DATABASE_URL: "postgres://nobody@127.0.0.1:1/none",
  });
  expect(result.code).toBe(1);
  expect(result.stderr.trim()).toStartWith(
    "gatehouse: BACKUP_SIGNING_KEYS: required in production",
  );
});
