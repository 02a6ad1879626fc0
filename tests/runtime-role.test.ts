import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "slonik";
import { z } from "zod";
import { listAuditMonthPartitions } from "../sql/audit-events.ts";
import { createRangePartition } from "../sql/database-backup.ts";
import { createDatabasePool } from "../src/db/pool.ts";
import { startTestApp } from "./support/app.ts";
import { cleanupNow } from "./support/cleanup.ts";
import { cliEnv, runCli } from "./support/cli.ts";
import { createTestDatabase, testLogger } from "./support/database.ts";
import { jsonSender } from "./support/requests.ts";
import { expectReadyThenCleanStop, startServer } from "./support/server-process.ts";
import { startWebhookReceiver } from "./support/webhook-receiver.ts";

// The service as a role that reads and writes rows but cannot change the
// schema, made by `gatehouse db roles --apply` itself; the owner (the test
// server's superuser) keeps migrations and the CLI's owner work.

// The CLI runs as separate processes, and one test starts the server itself.
setDefaultTimeout(60_000);

const owner = await createTestDatabase();
const poolFor = (url: string) =>
  createDatabasePool({
    url,
    minPoolSize: 0,
    maxPoolSize: 5,
    connectionTimeoutMs: 5000,
    statementTimeoutMs: 30000,
    slowQueryMs: 1000,
    logger: testLogger,
  });
// The owner's own pool (owner.pool is a runtime role's under TEST_DATABASE_ROLE=runtime).
const ownerPool = await poolFor(owner.url);
const dir = await mkdtemp(join(tmpdir(), "gatehouse-roles-"));
// Roles are cluster-wide and the test server may be shared: a name of this run's own.
const role = `gatehouse_rt_${randomBytes(5).toString("hex")}`;
const ownerEnv = cliEnv(owner.url, dir);

const applied = await runCli(
  ["db", "roles", "--apply", "--password", "--role", role, "--json"],
  ownerEnv,
);
if (applied.code !== 0) throw new Error(`db roles --apply failed: ${applied.stderr}`);
const grant = JSON.parse(applied.stdout) as { created: boolean; database_url: string };
const runtimeUrl = grant.database_url;
const runtime = await poolFor(runtimeUrl);
const adminEmail = `chief-${role}@example.com`;
const app = await startTestApp(runtime, {
  ADMIN_EMAILS: adminEmail,
  // The credential cache's LISTEN connection runs as the role too.
  AUTH_CACHE_TTL: "1s",
  // The webhook worker too; its receiver is on 127.0.0.1.
  WEBHOOK_ALLOW_PRIVATE: "true",
});
const runtimeEnv = { ...ownerEnv, DATABASE_URL: runtimeUrl };

afterAll(async () => {
  await app.close();
  await runtime.end();
  await ownerPool.query(sql.unsafe`DROP OWNED BY ${sql.identifier([role])}`);
  await ownerPool.query(sql.unsafe`DROP ROLE ${sql.identifier([role])}`);
  await ownerPool.end();
  await owner.drop();
  await rm(dir, { recursive: true, force: true });
});

const password = "correct horse battery staple";

const send = jsonSender(app);

/** Signs up and signs in through the routes; returns the session cookie and user id. */
async function signUpAndIn(email: string): Promise<{ cookie: string; id: string }> {
  expect((await send("POST", "/auth/signup", null, { email, password })).status).toBe(201);
  const login = await send("POST", "/auth/login", null, { email, password });
  expect(login.status).toBe(200);
  const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  const me = await send("GET", "/me", cookie);
  expect(me.status).toBe(200);
  const body = (await me.json()) as { id: string; email: string };
  expect(body.email).toBe(email);
  return { cookie, id: body.id };
}

const code = (error: unknown) =>
  (error as { code?: string; cause?: { code?: string } }).cause?.code ??
  (error as { code?: string }).code;

describe("gatehouse db roles", () => {
  test("--apply creates the role and prints a DATABASE_URL that connects as it", async () => {
    expect(grant.created).toBe(true);
    expect(new URL(runtimeUrl).username).toBe(role);
    expect(
      await runtime.oneFirst(sql.type(z.object({ u: z.string() }))`SELECT current_user AS u`),
    ).toBe(role);
  });

  test("without --apply it prints the SQL and touches nothing", async () => {
    const other = `gatehouse_rt_${randomBytes(5).toString("hex")}`;
    const printed = await runCli(["db", "roles", "--role", other], ownerEnv);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toContain(`CREATE ROLE "${other}" LOGIN`);
    expect(printed.stdout).toContain(
      `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "${other}"`,
    );
    expect(
      await ownerPool.oneFirst(sql.type(z.object({ n: z.number() }))`
        SELECT count(*)::int AS n FROM pg_roles WHERE rolname = ${other}`),
    ).toBe(0);
  });

  test("applying again changes nothing and keeps the password", async () => {
    const again = await runCli(["db", "roles", "--apply", "--role", role, "--json"], ownerEnv);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ role, created: false, applied: true });
    expect(JSON.parse(again.stdout).database_url).toBeUndefined();
    expect((await app.request("/readyz")).status).toBe(200);
  });

  test("a bad role name is one line and exit 1", async () => {
    const bad = await runCli(["db", "roles", "--role", 'x"; DROP TABLE users; --'], ownerEnv);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
    expect(bad.stderr).toContain("--role:");
  });

  test("a role that could change the schema is refused and granted nothing", async () => {
    const risky = `gatehouse_rt_${randomBytes(5).toString("hex")}`;
    await ownerPool.query(sql.unsafe`CREATE ROLE ${sql.identifier([risky])}`);
    await ownerPool.query(sql.unsafe`GRANT CREATE ON SCHEMA public TO ${sql.identifier([risky])}`);
    try {
      const refused = await runCli(["db", "roles", "--apply", "--role", risky], ownerEnv);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain("could still change the schema");
      expect(
        await ownerPool.oneFirst(sql.type(z.object({ ok: z.boolean() }))`
          SELECT has_table_privilege(${risky}, 'users', 'SELECT') AS ok`),
      ).toBe(false);
    } finally {
      await ownerPool.query(sql.unsafe`DROP OWNED BY ${sql.identifier([risky])}`);
      await ownerPool.query(sql.unsafe`DROP ROLE ${sql.identifier([risky])}`);
    }
  });
});

describe("the runtime role", () => {
  test("cannot create, alter, drop or truncate tables, nor write the migration record", async () => {
    const attempts = [
      sql.unsafe`CREATE TABLE sneaky (id int)`,
      sql.unsafe`ALTER TABLE users ADD COLUMN sneaky int`,
      sql.unsafe`DROP TABLE sessions`,
      sql.unsafe`TRUNCATE audit_events`,
      sql.unsafe`CREATE FUNCTION sneaky() RETURNS int LANGUAGE sql AS 'SELECT 1'`,
      sql.unsafe`INSERT INTO pgmigrations (name, run_on) VALUES ('sneaky', now())`,
      sql.unsafe`DELETE FROM pgmigrations`,
    ];
    for (const attempt of attempts) {
      const error = await runtime.query(attempt).then(
        () => null,
        (e: unknown) => e,
      );
      expect({ sql: attempt.sql, code: code(error) }).toEqual({ sql: attempt.sql, code: "42501" });
    }
    expect(
      await ownerPool.oneFirst(sql.type(z.object({ n: z.number() }))`
        SELECT count(*)::int AS n FROM information_schema.columns
        WHERE table_name = 'users' AND column_name = 'sneaky'`),
    ).toBe(0);
  });

  test("may drop only audit months that have ended, through the cleanup function", async () => {
    const thisMonth = new Date();
    const current = `audit_events_y${thisMonth.getUTCFullYear()}m${String(thisMonth.getUTCMonth() + 1).padStart(2, "0")}`;
    for (const name of [current, "audit_events_default", "users"]) {
      const error = await runtime.query(sql.unsafe`SELECT drop_audit_partition(${name})`).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).not.toBeNull();
    }
    const names = (await listAuditMonthPartitions(ownerPool)).map((p) => p.name);
    expect(names).toContain(current);
  });

  test("/readyz is ready", async () => {
    const response = await app.request("/readyz");
    expect(response.status).toBe(200);
  });

  test("sign-up, sign-in, /me, tokens, forward-auth and sign-out work", async () => {
    const { cookie } = await signUpAndIn(`member-${role}@example.com`);

    const tokens = await send("POST", "/auth/token", null, {
      grant_type: "password",
      email: `member-${role}@example.com`,
      password,
    });
    expect(tokens.status).toBe(200);
    const pair = (await tokens.json()) as { access_token: string; refresh_token: string };
    const refreshed = await send("POST", "/auth/token", null, {
      grant_type: "refresh_token",
      refresh_token: pair.refresh_token,
    });
    expect(refreshed.status).toBe(200);
    const bearerMe = await app.request("/me", {
      headers: { authorization: `Bearer ${pair.access_token}` },
    });
    expect(bearerMe.status).toBe(200);
    expect((await send("POST", "/auth/revoke", null, { token: pair.refresh_token })).status).toBe(
      200,
    );

    // Not yet approved: forward-auth answers, and refuses.
    const gate = await app.request("/auth/verify", { headers: { cookie } });
    expect([401, 403]).toContain(gate.status);

    expect((await send("POST", "/auth/logout", cookie)).status).toBeLessThan(400);
    expect((await send("GET", "/me", cookie)).status).toBe(401);
  });

  test("the admin routes work, and an approval lets forward-auth through", async () => {
    const chief = await signUpAndIn(adminEmail);
    // The first admin, as an operator makes one: the CLI as the runtime role.
    const granted = await runCli(["users", "grant-admin", adminEmail], runtimeEnv);
    expect(granted.code).toBe(0);
    const member = await signUpAndIn(`approved-${role}@example.com`);

    expect((await send("GET", "/admin/users", chief.cookie)).status).toBe(200);
    expect((await send("GET", `/admin/users/${member.id}`, chief.cookie)).status).toBe(200);
    const approve = await send("PATCH", `/admin/users/${member.id}`, chief.cookie, {
      is_whitelisted: true,
    });
    expect(approve.status).toBe(200);
    // The credential cache (LISTEN, as the role) drops the member's cached refusal on the
    // change's notification; allow it the moment that takes to arrive.
    let through = 0;
    for (let i = 0; i < 30 && through !== 200; i++) {
      if (i > 0) await Bun.sleep(100);
      through = (await app.request("/auth/verify", { headers: { cookie: member.cookie } })).status;
    }
    expect(through).toBe(200);
    expect((await send("GET", "/me/sessions", member.cookie)).status).toBe(200);

    const rule = await send("POST", "/admin/allowlist", chief.cookie, {
      kind: "domain",
      value: "example.org",
    });
    expect(rule.status).toBe(201);
    const { id: ruleId } = (await rule.json()) as { id: string };
    expect((await send("GET", "/admin/allowlist", chief.cookie)).status).toBe(200);
    expect((await send("DELETE", `/admin/allowlist/${ruleId}`, chief.cookie)).status).toBe(204);
    expect((await send("GET", "/admin/audit", chief.cookie)).status).toBe(200);
    expect((await send("GET", "/admin/health", chief.cookie)).status).toBe(200);
    expect(
      (await send("POST", `/admin/users/${member.id}/sessions/revoke`, chief.cookie)).status,
    ).toBeLessThan(300);
    expect((await send("DELETE", `/admin/users/${member.id}?hard=true`, chief.cookie)).status).toBe(
      204,
    );
  });

  test("a webhook endpoint is added, and a change's event queued and delivered, by the role's worker", async () => {
    const receiver = startWebhookReceiver();
    try {
      const webhookAdmin = await signUpAndIn(`hooks-${role}@example.com`);
      const granted = await runCli(
        ["users", "grant-admin", `hooks-${role}@example.com`],
        runtimeEnv,
      );
      expect(granted.code).toBe(0);
      const added = await send("POST", "/admin/webhooks", webhookAdmin.cookie, {
        url: receiver.url,
        events: ["user.created"],
      });
      expect(added.status).toBe(201);
      receiver.useSecret(((await added.json()) as { secret: string }).secret);
      const newcomer = await signUpAndIn(`hooked-${role}@example.com`);
      await receiver.waitFor(() =>
        receiver.ofType("user.created").some((r) => r.payload?.data.user_id === newcomer.id),
      );
    } finally {
      receiver.stop();
    }
  });

  test("cleanup drops expired audit months and creates the coming ones", async () => {
    await createRangePartition(ownerPool, "audit_events", {
      name: "audit_events_y2020m03",
      from: "2020-03-01 00:00:00+00",
      to: "2020-04-01 00:00:00+00",
    });
    const last = (await listAuditMonthPartitions(ownerPool)).at(-1);
    if (!last) throw new Error("no audit partitions");
    await ownerPool.query(sql.unsafe`DROP TABLE ${sql.identifier([last.name])}`);

    const report = await cleanupNow(runtime, { backupDir: dir });
    expect(report.ran).toBe(true);
    if (!report.ran) return;
    expect(report.audit_partitions_dropped).toEqual(["audit_events_y2020m03"]);
    expect(report.audit_partitions_created).toBe(1);
    const names = (await listAuditMonthPartitions(ownerPool)).map((p) => p.name);
    expect(names).toContain(last.name);
    // The new month belongs to the owner, and the role may write to it.
    expect(
      await runtime.oneFirst(sql.type(z.object({ ok: z.boolean() }))`
        SELECT has_table_privilege(${role}, ${last.name}, 'INSERT') AS ok`),
    ).toBe(true);
  });
});

describe("migrations with a runtime DATABASE_URL", () => {
  test("with nothing pending the CLI's migrate-first step is skipped, so commands work", async () => {
    const allowlist = await runCli(["allowlist", "list", "--json"], runtimeEnv);
    expect(allowlist.code).toBe(0);
  });

  test("pending migrations without DATABASE_MIGRATION_URL fail with one line saying so", async () => {
    const latest = await ownerPool.one(sql.type(z.object({ name: z.string(), run_on: z.string() }))`
      SELECT name, run_on::text AS run_on FROM pgmigrations ORDER BY id DESC LIMIT 1`);
    // The record says the newest migration is pending; its objects are all still there.
    await ownerPool.query(sql.unsafe`DELETE FROM pgmigrations WHERE name = ${latest.name}`);
    try {
      const result = await runCli(["migrate", "up"], runtimeEnv);
      expect(result.code).toBe(1);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
      expect(result.stderr).toContain("DATABASE_MIGRATION_URL");
    } finally {
      await ownerPool.query(sql.unsafe`
        INSERT INTO pgmigrations (name, run_on) VALUES (${latest.name}, ${latest.run_on}::timestamp)`);
    }
  });

  test("migrate status and up run as DATABASE_MIGRATION_URL", async () => {
    const env = { ...runtimeEnv, DATABASE_MIGRATION_URL: owner.url };
    const status = await runCli(["migrate", "status", "--json"], env);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).pending).toEqual([]);
    expect((await runCli(["migrate", "up"], env)).code).toBe(0);
  });
});

describe("the server process as the runtime role", () => {
  test("with migrations pending and no DATABASE_MIGRATION_URL it stops with exit 1 and says why", async () => {
    const latest = await ownerPool.one(sql.type(z.object({ name: z.string(), run_on: z.string() }))`
      SELECT name, run_on::text AS run_on FROM pgmigrations ORDER BY id DESC LIMIT 1`);
    await ownerPool.query(sql.unsafe`DELETE FROM pgmigrations WHERE name = ${latest.name}`);
    try {
      const child = startServer({
        DATABASE_URL: runtimeUrl,
        PORT: "0",
        HOST: "127.0.0.1",
        DATA_DIR: dir,
      });
      expect(await child.exited).toBe(1);
      const log = await new Response(child.stdout).text();
      const fatal = log.split("\n").find((line) => line.includes('"level":60'));
      expect(fatal).toContain("cannot apply migrations");
      expect(fatal).toContain("DATABASE_MIGRATION_URL");
      expect(await new Response(child.stderr).text()).toBe("");
    } finally {
      await ownerPool.query(sql.unsafe`
        INSERT INTO pgmigrations (name, run_on) VALUES (${latest.name}, ${latest.run_on}::timestamp)`);
    }
  });

  test("starts with DATABASE_MIGRATION_URL beside it, answers /readyz and stops cleanly", async () => {
    await expectReadyThenCleanStop({
      DATABASE_URL: runtimeUrl,
      DATABASE_MIGRATION_URL: owner.url,
      DATA_DIR: dir,
    });
  });
});
