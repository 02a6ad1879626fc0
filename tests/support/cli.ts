import { afterAll } from "bun:test";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { EncryptionKey } from "../../src/keys/token-encryption.ts";
import { signBackupMetadata } from "../../src/ops/backup-signature.ts";
import { createTestDatabase } from "./database.ts";

export type CliResult = { code: number; stdout: string; stderr: string };

const entry = resolve(import.meta.dir, "../../src/cli/main.ts");

/**
 * Runs `gatehouse ...` as an operator would: a separate process with only
 * the given environment (plus PATH/HOME), stdin closed.
 */
export async function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  const child = Bun.spawn([process.execPath, entry, ...args], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { code, stdout, stderr };
}

/** A fixed 32-byte key entry for TOKEN_ENCRYPTION_KEYS. */
export function testKey(id: string, fill: number): string {
  return `${id}:${Buffer.alloc(32, fill).toString("base64")}`;
}

/** The backup signing key of cliEnv, for backups a test makes or re-signs itself. */
export const testBackupKey: EncryptionKey = {
  id: "b1",
  key: new Uint8Array(Buffer.alloc(32, 7)),
};

/**
 * Signs a backup's metadata again after a test changed it, as the holder of
 * the key could: the restore's other checks are then what refuses it.
 */
export async function resignBackup(file: string, key: EncryptionKey = testBackupKey) {
  const metadata = JSON.parse(await readFile(`${file}.json`, "utf8"));
  metadata.signature = signBackupMetadata(metadata, key);
  await writeFile(`${file}.json`, JSON.stringify(metadata));
}

/** The environment an operator would give the CLI: one database, files under `dir`. */
export function cliEnv(databaseUrl: string, dir: string): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    TOKEN_ENCRYPTION_KEYS: testKey("k1", 1),
    BACKUP_SIGNING_KEYS: `${testBackupKey.id}:${Buffer.from(testBackupKey.key).toString("base64")}`,
    BACKUP_DIR: dir,
    DATA_DIR: dir,
  };
}

/**
 * What a file of CLI tests runs against: its own database, a scratch
 * BACKUP_DIR, and the environment naming both. Both are removed after the file.
 */
export async function cliTestSetup(name: string) {
  const db = await createTestDatabase();
  const dir = await mkdtemp(join(tmpdir(), `gatehouse-${name}-`));
  afterAll(async () => {
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });
  return { db, dir, env: cliEnv(db.url, dir) };
}
