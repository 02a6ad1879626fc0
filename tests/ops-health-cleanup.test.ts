import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { sql } from "slonik";
import { z } from "zod";
import { insertAuditEventAt, listAuditMonthPartitions } from "../sql/audit-events.ts";
import { createRangePartition } from "../sql/database-backup.ts";
import { insertRefreshTokenAt } from "../sql/refresh-tokens.ts";
import { denyAccessToken } from "../sql/revoked-access-tokens.ts";
import { insertSessionAt } from "../sql/sessions.ts";
import { insertUser } from "../sql/users.ts";
import { insertVerificationTokenAt } from "../sql/verification-tokens.ts";
import { createBackup } from "../src/ops/backup.ts";
import { listBackups } from "../src/ops/backup-catalog.ts";
import { runCleanup } from "../src/ops/cleanup.ts";
import { readHealth } from "../src/ops/health.ts";
import { cliTestSetup, runCli, testBackupKey } from "./support/cli.ts";
import { testPasswordHash } from "./support/sign-in.ts";

// Every test drives the CLI as separate processes (and argon2id hashing in seed).
setDefaultTimeout(60_000);

const { db, dir, env } = await cliTestSetup("cleanup");

const day = 86_400_000;
const at = (offsetMs: number) => new Date(Date.now() + offsetMs);
const hash = () => randomBytes(32);
const cleanupOptions = {
  pool: db.pool,
  graceMs: day,
  auditRetentionDays: 90,
  backupDir: dir,
  backupRetentionMs: 30 * day,
};

describe("health", () => {
  test("the JSON report has every field, --detailed adds the auth figures", async () => {
    await runCli(["seed"], env);
    const plain = await runCli(["health", "--json"], env);
    expect(plain.code).toBe(0);
    const report = JSON.parse(plain.stdout);
    expect(report).toMatchObject({
      status: "ok",
      database: {
        reachable: true,
        latency_ms: expect.any(Number),
        server_version: expect.stringMatching(/^\d+/),
        size_bytes: expect.any(Number),
        cache_hit_ratio: expect.any(Number),
        deadlocks: expect.any(Number),
        connections: expect.any(Number),
      },
      pool: { acquired: expect.any(Number), idle: expect.any(Number), waiting: 0 },
      long_running_queries: { threshold_seconds: 5, queries: expect.any(Array) },
      slow_statements: { available: expect.any(Boolean) },
      auth: null,
    });
    const tables = (report.tables as { table: string }[]).map((t) => t.table);
    expect(tables).toContain("users");
    expect(tables).toContain("sessions");
    if (!report.slow_statements.available) {
      expect(report.slow_statements.note).toContain("pg_stat_statements");
    }

    const detailed = JSON.parse((await runCli(["health", "--detailed", "--json"], env)).stdout);
    expect(detailed.auth).toMatchObject({
      users: {
        total: 9,
        active: 6,
        inactive: 1,
        locked: 1,
        deleted: 1,
        admins: 1,
        unverified: 1,
        locked_out_now: 1,
        whitelisted: 6,
        pending_approval: 2,
      },
      active_sessions: 3,
      live_refresh_token_families: 1,
      last_24h: { failed_logins: 3, lockouts: 1 },
    });
  });

  test("the human report names latency, tables and the auth figures", async () => {
    const result = await runCli(["health", "--detailed"], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("ms round trip");
    expect(result.stdout).toContain("users:");
    expect(result.stdout).toContain("failed logins");
  });

  test("an unreachable database fails with one line, exit 1, and no password", async () => {
    const result = await runCli(["health"], {
      ...env,
      DATABASE_URL: "postgres://gatehouse:hunter2secret@127.0.0.1:1/gatehouse",
      DB_MAX_RETRIES: "0",
      DB_CONNECTION_TIMEOUT_MS: "2000",
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toStartWith("gatehouse: cannot reach the database");
    expect(result.stderr).not.toContain("hunter2secret");
  });

  test("readHealth (what /admin/health will serve) reports the same shape", async () => {
    const report = await readHealth(db.pool, { detailed: true });
    expect(report.database.reachable).toBe(true);
    expect(report.auth?.users.total).toBeGreaterThan(0);
  });
});

describe("cleanup", () => {
  test("removes exactly the dead rows past the grace period and leaves live ones", async () => {
    const user = await insertUser(db.pool, {
      email: "cleanup@example.com",
      emailVerified: true,
      passwordHash: testPasswordHash,
    });
    const session = (createdAgo: number, ttl: number, revokedAgo: number | null = null) =>
      insertSessionAt(db.pool, {
        tokenHash: hash(),
        userId: user.id,
        createdAt: at(-createdAgo),
        lastSeenAt: at(-Math.min(createdAgo, revokedAgo ?? createdAgo)),
        expiresAt: at(-createdAgo + ttl),
        idleTimeoutSeconds: 30 * 86_400,
        ip: null,
        userAgent: null,
        revokedAt: revokedAgo === null ? null : at(-revokedAgo),
      });
    const keep = [
      await session(day, 30 * day), // live
      await session(3 * day, 2.5 * day), // expired 12 h ago: inside the grace period
      await session(2 * day, 30 * day, 3_600_000), // revoked an hour ago
    ];
    const gone = [await session(40 * day, 30 * day), await session(5 * day, 30 * day, 2 * day)];
    // A session that expired long ago but still has a live refresh token hanging off it stays.
    const anchored = await session(40 * day, 30 * day);

    const token = (
      issuedAgo: number,
      ttl: number,
      extra: { revokedAgo?: number; sessionId?: string } = {},
    ) =>
      insertRefreshTokenAt(db.pool, {
        tokenHash: hash(),
        familyId: crypto.randomUUID(),
        parentId: null,
        userId: user.id,
        sessionId: extra.sessionId ?? null,
        issuedAt: at(-issuedAgo),
        expiresAt: at(-issuedAgo + ttl),
        revokedAt: extra.revokedAgo === undefined ? null : at(-extra.revokedAgo),
        deviceInfo: null,
      });
    const keepTokens = [
      await token(day, 30 * day),
      await token(day, 30 * day, { sessionId: anchored.id }),
      await token(2 * day, 30 * day, { revokedAgo: 3_600_000 }),
    ];
    const goneTokens = [
      await token(40 * day, 30 * day),
      await token(5 * day, 30 * day, { revokedAgo: 2 * day }),
    ];

    const verification = (createdAgo: number, ttl: number, usedAgo: number | null = null) =>
      insertVerificationTokenAt(db.pool, {
        tokenHash: hash(),
        userId: user.id,
        purpose: "email_verification",
        createdAt: at(-createdAgo),
        expiresAt: at(-createdAgo + ttl),
        usedAt: usedAgo === null ? null : at(-usedAgo),
      });
    const keepVerification = [
      await verification(3_600_000, day),
      await verification(2 * day, 3 * day, 3_600_000),
    ];
    const goneVerification = [
      await verification(3 * day, day),
      await verification(4 * day, 3 * day, 2 * day),
    ];

    await denyAccessToken(db.pool, { jti: "live-jti", userId: user.id, expiresAt: at(600_000) });
    await denyAccessToken(db.pool, { jti: "dead-jti", userId: user.id, expiresAt: at(-60_000) });

    const dry = await runCli(["cleanup", "--grace", "1d", "--dry-run", "--json"], env);
    expect(dry.code).toBe(0);
    const dryReport = JSON.parse(dry.stdout);
    const sessionsBefore = await db.pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM sessions`);
    expect(dryReport.dry_run).toBe(true);
    expect(dryReport.removed.refresh_tokens).toBeGreaterThanOrEqual(goneTokens.length);

    const result = await runCli(["cleanup", "--grace", "1d", "--json"], env);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.ran).toBe(true);
    expect(sessionsBefore).toBeGreaterThan(0);

    const ids = (table: "sessions" | "refresh_tokens" | "verification_tokens") =>
      db.pool.anyFirst(
        sql.type(
          z.object({ id: z.string() }),
        )`SELECT id FROM ${sql.identifier([table])} WHERE user_id = ${user.id}`,
      );
    expect([...(await ids("sessions"))].sort()).toEqual(
      [...keep, anchored].map((s) => s.id).sort(),
    );
    expect([...(await ids("refresh_tokens"))].sort()).toEqual(keepTokens.map((t) => t.id).sort());
    expect([...(await ids("verification_tokens"))].sort()).toEqual(
      keepVerification.map((t) => t.id).sort(),
    );
    expect(
      await db.pool.anyFirst(
        sql.unsafe`SELECT jti FROM revoked_access_tokens WHERE user_id = ${user.id}`,
      ),
    ).toEqual(["live-jti"]);
    expect(report.removed.sessions).toBeGreaterThanOrEqual(gone.length);
    expect(report.removed.refresh_tokens).toBeGreaterThanOrEqual(goneTokens.length);
    expect(report.removed.verification_tokens).toBeGreaterThanOrEqual(goneVerification.length);
    // What the dry run promised is what the real run removed.
    expect(report.removed.refresh_tokens).toBe(dryReport.removed.refresh_tokens);
    expect(report.removed.verification_tokens).toBe(dryReport.removed.verification_tokens);
    expect(report.removed.revoked_access_tokens).toBe(dryReport.removed.revoked_access_tokens);
  });

  test("small batches walk the sessions once and remove every dead one between live ones", async () => {
    const user = await insertUser(db.pool, {
      email: "batches@example.com",
      emailVerified: true,
      passwordHash: testPasswordHash,
    });
    const session = (dead: boolean) =>
      insertSessionAt(db.pool, {
        tokenHash: hash(),
        userId: user.id,
        createdAt: at(-40 * day),
        lastSeenAt: at(-day),
        expiresAt: dead ? at(-10 * day) : at(10 * day),
        idleTimeoutSeconds: 30 * 86_400,
        ip: null,
        userAgent: null,
        revokedAt: null,
      });
    const rows = [];
    for (let i = 0; i < 21; i++) rows.push(await session(i % 3 !== 0));
    const report = await runCleanup({ ...cleanupOptions, batchSize: 2 });
    expect(report.ran && report.removed.sessions).toBeGreaterThanOrEqual(14);
    const left = await db.pool.anyFirst(sql.type(z.object({ id: z.string() }))`
      SELECT id FROM sessions WHERE user_id = ${user.id}`);
    expect([...left].sort()).toEqual(
      rows
        .filter((_, i) => i % 3 === 0)
        .map((r) => r.id)
        .sort(),
    );
  });

  test("drops an audit partition older than the retention and creates the coming months", async () => {
    await createRangePartition(db.pool, "audit_events", {
      name: "audit_events_y2020m01",
      from: "2020-01-01 00:00:00+00",
      to: "2020-02-01 00:00:00+00",
    });
    await insertAuditEventAt(db.pool, {
      id: crypto.randomUUID(),
      occurredAt: new Date("2020-01-15T00:00:00Z"),
      eventType: "login.password",
      result: "success",
    });
    await db.pool.query(sql.unsafe`DROP TABLE IF EXISTS audit_events_y2099m01`);
    const report = await runCleanup(cleanupOptions);
    expect(report.ran).toBe(true);
    if (!report.ran) return;
    expect(report.audit_partitions_dropped).toEqual(["audit_events_y2020m01"]);
    const names = (await listAuditMonthPartitions(db.pool)).map((p) => p.name);
    expect(names).not.toContain("audit_events_y2020m01");
    const thisMonth = new Date();
    const expected = `audit_events_y${thisMonth.getUTCFullYear()}m${String(thisMonth.getUTCMonth() + 1).padStart(2, "0")}`;
    expect(names).toContain(expected);
    expect(names.length).toBeGreaterThanOrEqual(4);
    expect(
      await db.pool.oneFirst(
        sql.unsafe`SELECT count(*)::int FROM audit_events WHERE occurred_at < '2021-01-01'`,
      ),
    ).toBe(0);
  });

  test("deletes backups older than the retention and keeps newer ones", async () => {
    const backup = () =>
      createBackup({
        pool: db.pool,
        databaseUrl: db.url,
        dir,
        compress: true,
        validate: false,
        signingKey: testBackupKey,
      });
    const old = await backup();
    await Bun.sleep(5);
    const recent = await backup();
    const metadataPath = join(dir, `${old.file}.json`);
    const metadata = JSON.parse(await readFile(metadataPath, "utf8"));
    metadata.created_at = "2020-01-01T00:00:00.000Z";
    await writeFile(metadataPath, JSON.stringify(metadata));

    const result = await runCli(["cleanup", "--retention", "30d", "--json"], env);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).removed.backups).toBe(1);
    expect((await listBackups(dir)).map((b) => b.metadata.file)).toEqual([recent.file]);
  });

  test("two concurrent runs: one works, the other skips", async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered = () => {};
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const first = runCleanup({
      ...cleanupOptions,
      whileLocked: async () => {
        entered();
        await held;
      },
    });
    await inside;
    const second = await runCleanup(cleanupOptions);
    const viaCli = await runCli(["cleanup", "--json"], env);
    release();
    expect((await first).ran).toBe(true);
    expect(second).toEqual({ ran: false, reason: "another cleanup run holds the lock" });
    expect(viaCli.code).toBe(0);
    expect(JSON.parse(viaCli.stdout).ran).toBe(false);
    // Released: the next run works again.
    expect((await runCleanup(cleanupOptions)).ran).toBe(true);
  });

  test("a bad duration is one clear line and exit 1", async () => {
    const result = await runCli(["cleanup", "--grace", "soon"], env);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(
      "gatehouse: --grace expects a duration like 12h or 30d, not 'soon'",
    );
  });
});
