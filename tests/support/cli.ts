import { resolve } from "node:path";

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

/** The environment an operator would give the CLI: one database, files under `dir`. */
export function cliEnv(databaseUrl: string, dir: string): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    TOKEN_ENCRYPTION_KEYS: testKey("k1", 1),
    BACKUP_DIR: dir,
    DATA_DIR: dir,
  };
}
