import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { cliTestSetup, runCli } from "./support/cli.ts";

// One subprocess per case.
setDefaultTimeout(60_000);

const { dir, env } = await cliTestSetup("cli");

const commands = ["seed", "backup", "backups", "restore", "health", "cleanup", "rotate-keys"];

describe("every operations command", () => {
  for (const command of commands) {
    test(`${command} --help prints its usage and exits 0 without a database`, async () => {
      const result = await runCli([command, "--help"], {
        ...env,
        DATABASE_URL: "postgres://nobody@127.0.0.1:1/none",
      });
      expect(result.code).toBe(0);
      expect(result.stdout).toStartWith(`usage: gatehouse ${command}`);
      expect(result.stdout).toContain("--json");
    });

    test(`${command} with an unknown option is one clear line and exit 1`, async () => {
      const result = await runCli([command, "--frobnicate"], env);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe("");
      const lines = result.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain("--frobnicate");
    });
  }

  test("the top-level usage lists every command", async () => {
    const result = await runCli(["--help"], env);
    expect(result.code).toBe(0);
    for (const command of commands) expect(result.stdout).toContain(`  ${command}`);
  });

  test("health, backups and cleanup --dry-run answer JSON on stdout", async () => {
    for (const args of [["health"], ["backups"], ["cleanup", "--dry-run"]]) {
      const result = await runCli([...args, "--json"], env);
      expect(result.code).toBe(0);
      expect(() => JSON.parse(result.stdout)).not.toThrow();
    }
  });

  test("restore of a missing file is refused in one line", async () => {
    const result = await runCli(["restore", join(dir, "nope.jsonl.gz"), "--yes"], env);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toStartWith(
      `gatehouse: refusing to restore: ${join(dir, "nope.jsonl.gz")} does not exist`,
    );
  });

  test("restore without a FILE, and seed with an extra argument, are usage errors", async () => {
    const restore = await runCli(["restore"], env);
    expect(restore.code).toBe(1);
    expect(restore.stderr.trim()).toBe("gatehouse: restore needs exactly one FILE");
    const seed = await runCli(["seed", "extra"], env);
    expect(seed.code).toBe(1);
    expect(seed.stderr.trim()).toBe("gatehouse: seed takes no arguments");
  });

  test("a bad configuration value names the variable in one line", async () => {
    const result = await runCli(["health"], { ...env, BACKUP_RETENTION: "forever" });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toStartWith("gatehouse: BACKUP_RETENTION:");
  });
});
