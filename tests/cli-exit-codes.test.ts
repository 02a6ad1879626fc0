import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cliEnv, runCli, testKey } from "./support/cli.ts";
import { createTestDatabase } from "./support/database.ts";

// A failure exits non-zero whichever database the command used: the embedded
// one (no DATABASE_URL, its server started and stopped by the command) or a
// configured server. The embedded path once exited 0 after any failure that
// came after connecting, because the embedded server's exit hook ended the
// process with 0 on `beforeExit`.

setDefaultTimeout(120_000);

const db = await createTestDatabase();
const serverDir = await mkdtemp(join(tmpdir(), "gatehouse-exit-server-"));
const embeddedDir = await mkdtemp(join(tmpdir(), "gatehouse-exit-embedded-"));
afterAll(async () => {
  await db.drop();
  await rm(serverDir, { recursive: true, force: true });
  await rm(embeddedDir, { recursive: true, force: true });
});

const paths: Record<string, Record<string, string>> = {
  "with DATABASE_URL": cliEnv(db.url, serverDir),
  "with the embedded database": {
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    TOKEN_ENCRYPTION_KEYS: testKey("k1", 1),
    DATA_DIR: embeddedDir,
    BACKUP_DIR: join(embeddedDir, "backups"),
  },
};

for (const [path, env] of Object.entries(paths)) {
  describe(path, () => {
    test("users grant-admin of an unknown address exits 1 and says so", async () => {
      const result = await runCli(["users", "grant-admin", "nobody@example.com"], env);
      expect(result.stderr.trim()).toBe(
        "gatehouse: no user with email nobody@example.com (they must sign up or sign in first)",
      );
      expect(result.code).toBe(1);
    });

    test("restore without --yes and no terminal exits 1 and changes nothing", async () => {
      const backup = await runCli(["backup", "--json"], env);
      expect(backup.code).toBe(0);
      const { path: file } = JSON.parse(backup.stdout) as { path: string };
      const result = await runCli(["restore", file], env);
      expect(result.stderr.trim()).toBe(
        "gatehouse: restore replaces every row: confirm with --yes",
      );
      expect(result.code).toBe(1);
    });

    test("restore of a missing file says the file does not exist and exits 1", async () => {
      const missing = join(embeddedDir, "gone.jsonl.gz");
      const result = await runCli(["restore", missing, "--yes"], env);
      expect(result.stderr.trim()).toBe(
        `gatehouse: refusing to restore: ${missing} does not exist`,
      );
      expect(result.code).toBe(1);
    });

    test("a command that succeeds still exits 0", async () => {
      const result = await runCli(["health", "--json"], env);
      expect(result.code).toBe(0);
      expect(() => JSON.parse(result.stdout)).not.toThrow();
    });
  });
}
