import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { sql } from "slonik";
import { z } from "zod";
import { listBackupTables, readAllRowsAsJson } from "../sql/database-backup.ts";
import { listAppliedMigrations } from "../sql/schema-migrations.ts";
import { enqueueDeliveryTo } from "../sql/webhook-deliveries.ts";
import { parseConfig } from "../src/config/index.ts";
import { createDatabasePool } from "../src/db/pool.ts";
import { createBackup } from "../src/ops/backup.ts";
import { sha256OfFile } from "../src/ops/backup-file.ts";
import { newWebhookSecret } from "../src/webhooks/signing.ts";
import { cliTestSetup, resignBackup, runCli, testBackupKey } from "./support/cli.ts";
import { createEmptyDatabase, testLogger } from "./support/database.ts";
import { plantWebhookEndpoint } from "./support/webhook-endpoints.ts";

// Every test drives the CLI as separate processes (and argon2id hashing in seed).
setDefaultTimeout(60_000);

const { db, dir, env } = await cliTestSetup("backups");

async function tableCounts(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const { name } of await listBackupTables(db.pool)) {
    counts[name] = (await readAllRowsAsJson(db.pool, name)).length;
  }
  return counts;
}

async function snapshotRows(): Promise<Record<string, readonly string[]>> {
  const rows: Record<string, readonly string[]> = {};
  for (const { name } of await listBackupTables(db.pool)) {
    rows[name] = await readAllRowsAsJson(db.pool, name);
  }
  return rows;
}

async function backup(...args: string[]) {
  const result = await runCli(["backup", "--json", ...args], env);
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as Record<string, unknown> & {
    path: string;
    tables: Record<string, number>;
  };
}

describe("seed", () => {
  test("on a database that has never been migrated, seed brings the schema up first", async () => {
    const empty = await createEmptyDatabase();
    try {
      const result = await runCli(["seed", "--json"], { ...env, DATABASE_URL: empty.url });
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      const again = await runCli(["allowlist", "list", "--json"], {
        ...env,
        DATABASE_URL: empty.url,
      });
      expect(again.code).toBe(0);
    } finally {
      await empty.drop();
    }
  });

  test("refuses to run with NODE_ENV=production and writes nothing", async () => {
    const result = await runCli(["seed"], { ...env, NODE_ENV: "production" });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toContain("NODE_ENV=production");
    expect(await db.pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM users`)).toBe(0);
  });

  test("covers every user state, prints the passwords once, and a second run changes nothing", async () => {
    const first = await runCli(["seed", "--json"], env);
    expect(first.code).toBe(0);
    const report = JSON.parse(first.stdout);
    expect(report.seeded).toBe(true);
    expect(report.passwords.length).toBeGreaterThan(3);
    const afterFirst = await snapshotRows();

    const states = await db.pool.any(sql.type(
      z.object({
        status: z.string(),
        email_verified: z.boolean(),
        is_whitelisted: z.boolean(),
        role: z.string(),
        locked_until: z.boolean(),
      }),
    )`
      SELECT status, email_verified, is_whitelisted, role, locked_until IS NOT NULL AS locked_until
      FROM users`);
    const statuses = new Set(states.map((s) => s.status));
    expect([...statuses].sort()).toEqual(["active", "deleted", "inactive", "locked"]);
    expect(states.some((s) => !s.email_verified && s.status === "active")).toBe(true);
    expect(states.some((s) => !s.is_whitelisted && s.status === "active")).toBe(true);
    expect(states.some((s) => s.role === "admin")).toBe(true);
    expect(states.some((s) => s.status === "locked" && s.locked_until)).toBe(true);
    const providers = await db.pool.anyFirst(
      sql.unsafe`SELECT provider FROM oauth_accounts WHERE access_token LIKE 'v2.k1.%' ORDER BY 1`,
    );
    expect(providers).toEqual(["github", "google"]);
    const months = await db.pool.oneFirst(
      sql.unsafe`SELECT count(DISTINCT date_trunc('month', occurred_at))::int FROM audit_events`,
    );
    expect(months).toBeGreaterThanOrEqual(2);

    // A seeded password signs in: its hash is argon2id of the printed value.
    const { email, password } = report.passwords[0];
    const hash = await db.pool.oneFirst(
      sql.unsafe`SELECT password_hash FROM users WHERE email = ${email}`,
    );
    expect(String(hash)).toStartWith("$argon2id$");
    expect(await Bun.password.verify(password, String(hash))).toBe(true);

    const second = await runCli(["seed", "--json"], env);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ seeded: false, passwords: [] });
    expect(await snapshotRows()).toEqual(afterFirst);
  });
});

describe("backup and restore", () => {
  /** A compressed, validated, signed backup into `into`, reporting each step to `onProgress`. */
  const backupInto = (into: string, onProgress: (message: string) => void | Promise<void>) =>
    createBackup({
      pool: db.pool,
      databaseUrl: db.url,
      dir: into,
      compress: true,
      validate: true,
      signingKey: testBackupKey,
      onProgress,
    });

  test("a backup's metadata names its tables, row counts, schema and checksum", async () => {
    const counts = await tableCounts();
    const meta = await backup();
    expect(meta.path).toStartWith(dir);
    expect(meta.path).toEndWith(".jsonl.gz");
    expect(meta.compressed).toBe(true);
    expect(meta.validated).toBe(true);
    expect(meta.tables).toEqual(counts);
    expect(meta.tables.users).toBeGreaterThan(0);
    expect(meta.schema_version).toBe((await listAppliedMigrations(db.pool)).at(-1)?.name ?? "");
    expect(meta.sha256).toBe(await sha256OfFile(meta.path));
    expect(meta.server_version).toMatch(/^\d+/);
    expect(meta.database_url).not.toContain(new URL(db.url).password || "@@none@@");
    expect(JSON.parse(await readFile(`${meta.path}.json`, "utf8")).sha256).toBe(meta.sha256);
    const gz = await readFile(meta.path);
    expect(gz[0]).toBe(0x1f);
    expect(gz[1]).toBe(0x8b);
  });

  test("a backup is one snapshot: rows written while it runs are not in it", async () => {
    const other = await mkdtemp(join(tmpdir(), "gatehouse-snapshot-"));
    try {
      const usersBefore = (await tableCounts()).users;
      let wrote = false;
      const meta = await backupInto(other, async () => {
        if (wrote) return;
        wrote = true;
        // A write from another connection after the snapshot was taken, before users is read.
        // A plain pg client: slonik refuses a second pool inside the backup's transaction context.
        const writer = new pg.Client({ connectionString: db.url });
        await writer.connect();
        try {
          await writer.query(
            "INSERT INTO users (email, email_verified, password_hash) VALUES ($1, true, $2)",
            ["during-backup@example.com", "$argon2id$x"],
          );
        } finally {
          await writer.end();
        }
      });
      expect(wrote).toBe(true);
      expect(meta.tables.users).toBe(usersBefore);
      expect((await tableCounts()).users).toBe((usersBefore ?? 0) + 1);
    } finally {
      await db.pool.query(sql.unsafe`DELETE FROM users WHERE email = 'during-backup@example.com'`);
      await rm(other, { recursive: true, force: true });
    }
  });

  test("a backup that fails part-way leaves no file behind, under the final name or any other", async () => {
    const other = await mkdtemp(join(tmpdir(), "gatehouse-failing-"));
    try {
      const failing = backupInto(other, (message) => {
        if (message.startsWith("oauth_accounts")) throw new Error("disk full");
      });
      await expect(failing).rejects.toThrow("disk full");
      expect(await readdir(other)).toEqual([]);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  test("--no-compress writes plain JSON lines and --dir another folder", async () => {
    const other = await mkdtemp(join(tmpdir(), "gatehouse-other-"));
    try {
      const meta = await backup("--no-compress", "--dir", other);
      expect(meta.path).toStartWith(other);
      expect(meta.path).toEndWith(".jsonl");
      expect(meta.compressed).toBe(false);
      const firstLine = (await readFile(meta.path, "utf8")).split("\n")[0] ?? "";
      expect(JSON.parse(firstLine.slice(1)).format).toBe("gatehouse-backup");
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  test("backups lists them newest first with their metadata", async () => {
    const newest = await backup();
    const result = await runCli(["backups", "--json"], env);
    expect(result.code).toBe(0);
    const listed = JSON.parse(result.stdout) as { path: string; created_at: string }[];
    expect(listed[0]?.path).toBe(newest.path);
    const times = listed.map((b) => b.created_at);
    expect(times).toEqual([...times].sort().reverse());
  });

  test("seed, backup, wipe, restore gives back identical rows", async () => {
    const before = await snapshotRows();
    const meta = await backup();
    await db.pool.query(
      sql.unsafe`TRUNCATE users, allowlist_rules, audit_events, revoked_access_tokens CASCADE`,
    );
    expect(await db.pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM users`)).toBe(0);

    const result = await runCli(["restore", meta.path, "--yes", "--json"], env);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).tables).toEqual(meta.tables);
    expect(await snapshotRows()).toEqual(before);
    expect((await listAppliedMigrations(db.pool)).at(-1)?.name).toBe(meta.schema_version as string);
  });

  test("a backup restores into an empty database on another server: schema migrated, identical rows", async () => {
    const before = await snapshotRows();
    const meta = await backup();
    const empty = await createEmptyDatabase();
    const pool = await createDatabasePool({
      url: empty.url,
      minPoolSize: 0,
      maxPoolSize: 2,
      connectionTimeoutMs: 5000,
      statementTimeoutMs: 30000,
      slowQueryMs: 1000,
      logger: testLogger,
    });
    try {
      const result = await runCli(["restore", meta.path, "--yes"], {
        ...env,
        DATABASE_URL: empty.url,
      });
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      const restored: Record<string, readonly string[]> = {};
      for (const { name } of await listBackupTables(pool)) {
        restored[name] = await readAllRowsAsJson(pool, name);
      }
      expect(restored).toEqual(before);
      expect((await listAppliedMigrations(pool)).map((m) => m.name)).toEqual(
        (await listAppliedMigrations(db.pool)).map((m) => m.name),
      );
    } finally {
      await pool.end();
      await empty.drop();
    }
  });

  test("restore without --yes and without a terminal refuses and changes nothing", async () => {
    const meta = await backup();
    await db.pool.query(sql.unsafe`DELETE FROM allowlist_rules`);
    const result = await runCli(["restore", meta.path], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("--yes");
    expect(await db.pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM allowlist_rules`)).toBe(0);
    await runCli(["restore", meta.path, "--yes"], env);
  });

  async function expectRefused(file: string) {
    const before = await snapshotRows();
    await db.pool.query(sql.unsafe`DELETE FROM allowlist_rules`);
    const changed = await snapshotRows();
    const result = await runCli(["restore", file, "--yes"], env);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toContain("refusing to restore");
    expect(await snapshotRows()).toEqual(changed);
    return { before, stderr: result.stderr };
  }

  test("a corrupted backup is refused by restore and nothing changes", async () => {
    const meta = await backup();
    const bytes = await readFile(meta.path);
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = (bytes[middle] ?? 0) ^ 0xff;
    await writeFile(meta.path, bytes);
    const { stderr } = await expectRefused(meta.path);
    expect(stderr).toContain("checksum");
  });

  test("a truncated backup is refused by restore and nothing changes", async () => {
    const meta = await backup();
    await truncate(meta.path, Math.floor((meta.size_bytes as number) / 2));
    await expectRefused(meta.path);
  });

  test("a truncated backup whose metadata checksum was rewritten is still refused (gzip and trailer checks)", async () => {
    const meta = await backup();
    await truncate(meta.path, Math.floor((meta.size_bytes as number) / 2));
    const metadata = JSON.parse(await readFile(`${meta.path}.json`, "utf8"));
    metadata.sha256 = await sha256OfFile(meta.path);
    await writeFile(`${meta.path}.json`, JSON.stringify(metadata));
    await resignBackup(meta.path);
    const { stderr } = await expectRefused(meta.path);
    expect(stderr).toContain("unreadable");
  });

  test("a backup of a schema newer than the code is refused", async () => {
    const meta = await backup("--no-compress");
    const text = await readFile(meta.path, "utf8");
    const lines = text.split("\n");
    const header = JSON.parse((lines[0] ?? "").slice(1));
    header.migrations.push("9999999999999_from-the-future");
    lines[0] = `#${JSON.stringify(header)}`;
    await writeFile(meta.path, lines.join("\n"));
    const metadata = JSON.parse(await readFile(`${meta.path}.json`, "utf8"));
    metadata.migrations = header.migrations;
    metadata.sha256 = await sha256OfFile(meta.path);
    await writeFile(`${meta.path}.json`, JSON.stringify(metadata));
    await resignBackup(meta.path);
    const { stderr } = await expectRefused(meta.path);
    expect(stderr).toContain("newer than this code");
  });
});

describe("webhook deliveries across a restore", () => {
  test("a restore queues again the deliveries still pending (the queue is not in backups)", async () => {
    const endpoint = await plantWebhookEndpoint(db.pool, parseConfig(env), {
      url: "https://hooks.example.com/gatehouse",
      events: ["user.created"],
      secret: newWebhookSecret(),
      createdBy: null,
    });
    const payload = { type: "webhook.test", timestamp: new Date().toISOString(), data: {} };
    const pending = await enqueueDeliveryTo(db.pool, endpoint.id, {
      eventType: "webhook.test",
      payload,
    });
    const meta = await backup();
    const empty = await createEmptyDatabase();
    const client = new pg.Client({ connectionString: empty.url });
    try {
      const result = await runCli(["restore", meta.path, "--yes"], {
        ...env,
        DATABASE_URL: empty.url,
      });
      expect(result.code).toBe(0);
      await client.connect();
      const { rows } = await client.query<{ key: string; payload: unknown }>(
        `SELECT j.key, j.payload FROM graphile_worker._private_jobs j
         JOIN graphile_worker._private_tasks t ON t.id = j.task_id
         WHERE t.identifier = 'deliver_webhook'`,
      );
      expect(rows).toEqual([
        {
          key: `webhook-delivery:${pending?.id}`,
          payload: { delivery_id: pending?.id, attempt: 0 },
        },
      ]);
    } finally {
      await client.end();
      await empty.drop();
    }
  });
});
