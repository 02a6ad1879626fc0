import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "slonik";
import { z } from "zod";
import { findUserById } from "../sql/users.ts";
import { startTestApp } from "./support/app.ts";
import { cliEnv, runCli } from "./support/cli.ts";
import { createTestDatabase } from "./support/database.ts";
import { signedInUser } from "./support/sign-in.ts";

// `gatehouse users grant-admin` and `gatehouse allowlist ...`, run as an
// operator would (a separate process) against this file's own database.
setDefaultTimeout(60_000);

const db = await createTestDatabase();
const dir = await mkdtemp(join(tmpdir(), "gatehouse-bootstrap-"));
const env = cliEnv(db.url, dir);
const app = await startTestApp(db.pool);
afterAll(async () => {
  await app.close();
  await db.drop();
  await rm(dir, { recursive: true, force: true });
});

const auditRow = z.object({
  event_type: z.string(),
  result: z.string(),
  user_id: z.string().nullable(),
  actor_id: z.string().nullable(),
  user_agent: z.string().nullable(),
  context: z.record(z.string(), z.unknown()),
});
const auditEvents = (eventType: string) =>
  db.pool.any(sql.type(auditRow)`
    SELECT event_type, result, user_id, actor_id, user_agent, context FROM audit_events
    WHERE event_type = ${eventType} ORDER BY occurred_at, id`);

function oneErrorLine(result: { code: number; stdout: string; stderr: string }): string {
  expect(result.code).toBe(1);
  expect(result.stdout).toBe("");
  const lines = result.stderr.trim().split("\n");
  expect(lines).toHaveLength(1);
  return lines[0] ?? "";
}

describe("gatehouse users grant-admin", () => {
  test("makes a pending user an approved admin, audited, and forward-auth lets them into admin apps", async () => {
    const { user, cookie } = await signedInUser(db.pool, app.config, { isWhitelisted: false });
    expect((await app.request("/auth/verify?role=admin", { headers: { cookie } })).status).toBe(
      403,
    );

    const result = await runCli(["users", "grant-admin", user.email ?? ""], env);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(`${user.email} is now an approved administrator`);

    const after = await findUserById(db.pool, user.id);
    expect(after).toMatchObject({ role: "admin", is_whitelisted: true, status: "active" });
    const events = (await auditEvents("admin.user_updated")).filter((e) => e.user_id === user.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ result: "success", actor_id: null });
    expect(events[0]?.user_agent).toStartWith("gatehouse-cli (os user ");
    expect(events[0]?.context).toEqual({ role: "admin", is_whitelisted: true });

    // The existing session passes at once: the check reads the user's flags every time.
    const verified = await app.request("/auth/verify?role=admin", { headers: { cookie } });
    expect(verified.status).toBe(200);
    expect(verified.headers.get("x-auth-role")).toBe("admin");
  });

  test("running it again changes nothing and writes no second audit event", async () => {
    const { user } = await signedInUser(db.pool, app.config);
    expect((await runCli(["users", "grant-admin", user.email ?? ""], env)).code).toBe(0);
    const again = await runCli(["users", "grant-admin", user.email ?? "", "--json"], env);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({
      user_id: user.id,
      email: user.email,
      role: "admin",
      is_whitelisted: true,
      status: "active",
      changed: false,
    });
    const events = (await auditEvents("admin.user_updated")).filter((e) => e.user_id === user.id);
    expect(events).toHaveLength(1);
  });

  test("the email is matched case-insensitively", async () => {
    const { user } = await signedInUser(db.pool, app.config);
    const result = await runCli(["users", "grant-admin", (user.email ?? "").toUpperCase()], env);
    expect(result.code).toBe(0);
    expect((await findUserById(db.pool, user.id))?.role).toBe("admin");
  });

  test("an unknown email, a bad email and missing arguments are one line and exit 1", async () => {
    expect(oneErrorLine(await runCli(["users", "grant-admin", "nobody@example.com"], env))).toBe(
      "gatehouse: no user with email nobody@example.com (they must sign up or sign in first)",
    );
    expect(oneErrorLine(await runCli(["users", "grant-admin", "not-an-email"], env))).toBe(
      "gatehouse: 'not-an-email' is not an email address",
    );
    expect(oneErrorLine(await runCli(["users", "grant-admin"], env))).toBe(
      "gatehouse: users grant-admin needs exactly one EMAIL",
    );
    expect(oneErrorLine(await runCli(["users", "promote", "a@example.com"], env))).toContain(
      "users needs grant-admin EMAIL",
    );
  });
});

describe("gatehouse allowlist", () => {
  test("add stores a validated, lower-cased rule, audited, and says so in --json", async () => {
    const result = await runCli(["allowlist", "add", "domain", "Example.ORG", "--json"], env);
    expect(result.code).toBe(0);
    const rule = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(rule).toMatchObject({
      kind: "domain",
      value: "example.org",
      created: true,
      created_by: null,
    });
    const events = (await auditEvents("admin.allowlist_rule_added")).filter(
      (e) => e.context.rule_id === rule.id,
    );
    expect(events).toHaveLength(1);
    expect(events[0]?.user_agent).toStartWith("gatehouse-cli");
  });

  test("adding an existing rule changes nothing and exits 0", async () => {
    expect((await runCli(["allowlist", "add", "email", "ann@example.net"], env)).code).toBe(0);
    const again = await runCli(["allowlist", "add", "email", "Ann@Example.net"], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toStartWith("already present ");
    const count = await db.pool.oneFirst(
      sql.type(z.object({ n: z.number() }))`
        SELECT count(*)::int AS n FROM allowlist_rules WHERE value = 'ann@example.net'`,
    );
    expect(count).toBe(1);
  });

  test("an unknown kind or a value that does not fit its kind is refused in one line", async () => {
    expect(oneErrorLine(await runCli(["allowlist", "add", "ip", "10.0.0.1"], env))).toBe(
      "gatehouse: unknown KIND 'ip' (email, domain, github_org or github_team)",
    );
    expect(
      oneErrorLine(await runCli(["allowlist", "add", "domain", "not a domain"], env)),
    ).toContain("invalid domain value 'not a domain'");
    expect(oneErrorLine(await runCli(["allowlist", "add", "email"], env))).toBe(
      "gatehouse: allowlist add needs KIND VALUE",
    );
  });

  test("allowlist add takes the same address and domain checks as sign-up: `%@%` is refused", async () => {
    for (const [kind, value] of [
      ["email", "%@%"],
      ["email", "*@example.com"],
      ["domain", "%.example.com"],
    ] as const) {
      const result = await runCli(["allowlist", "add", kind, value], env);
      expect(result.code).not.toBe(0);
      expect(oneErrorLine(result)).toContain(`invalid ${kind} value '${value}'`);
    }
    const count = await db.pool.oneFirst(
      sql.type(z.object({ n: z.number() }))`
        SELECT count(*)::int AS n FROM allowlist_rules WHERE value IN ('%@%', '*@example.com', '%.example.com')`,
    );
    expect(count).toBe(0);
  });

  test("list shows every rule; remove deletes one, audited; an unknown id is exit 1", async () => {
    await runCli(["allowlist", "add", "github_org", "acme"], env);
    const listed = JSON.parse((await runCli(["allowlist", "list", "--json"], env)).stdout) as {
      id: string;
      kind: string;
      value: string;
    }[];
    const acme = listed.find((r) => r.kind === "github_org" && r.value === "acme");
    expect(acme).toBeDefined();
    const human = await runCli(["allowlist", "list"], env);
    expect(human.stdout).toContain(`${acme?.id}  github_org   acme`);

    const removed = await runCli(["allowlist", "remove", acme?.id ?? ""], env);
    expect(removed.code).toBe(0);
    expect(removed.stdout.trim().split("\n")).toEqual([
      `removed ${acme?.id}  github_org   acme`,
      "0 user(s) lose access (pending again, signed out); 0 keep it through another rule or ADMIN_EMAILS",
    ]);
    const after = JSON.parse((await runCli(["allowlist", "list", "--json"], env)).stdout) as {
      id: string;
    }[];
    expect(after.map((r) => r.id)).not.toContain(acme?.id);
    const events = (await auditEvents("admin.allowlist_rule_deleted")).filter(
      (e) => e.context.rule_id === acme?.id,
    );
    expect(events).toHaveLength(1);

    expect(oneErrorLine(await runCli(["allowlist", "remove", acme?.id ?? ""], env))).toBe(
      `gatehouse: no allowlist rule with id ${acme?.id}`,
    );
    expect(oneErrorLine(await runCli(["allowlist", "remove", "42"], env))).toBe(
      "gatehouse: no allowlist rule with id 42",
    );
  });

  test("impact counts the users a rule alone lets in; remove signs them out and says how many", async () => {
    const added = await runCli(["allowlist", "add", "domain", "cli-gate.example", "--json"], env);
    const rule = JSON.parse(added.stdout) as { id: string };
    const { user, cookie } = await signedInUser(db.pool, app.config, {
      email: `x${crypto.randomUUID().slice(0, 6)}@cli-gate.example`,
      isWhitelisted: true,
      approvedByRuleId: rule.id,
    });
    const impact = await runCli(["allowlist", "impact", rule.id, "--json"], env);
    expect(impact.code).toBe(0);
    expect(JSON.parse(impact.stdout)).toMatchObject({ unapproved: 1, kept: 0 });

    const removed = await runCli(["allowlist", "remove", rule.id], env);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toContain("1 user(s) lose access");
    expect(await findUserById(db.pool, user.id)).toMatchObject({ is_whitelisted: false });
    expect((await app.request("/me", { headers: { cookie } })).status).toBe(401);
    const events = (await auditEvents("user.unapproved")).filter((e) => e.user_id === user.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actor_id: null, context: { rule_id: rule.id } });
  });

  test("--help of both commands prints usage and needs no database; both are in the top-level usage", async () => {
    const offline = { ...env, DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" };
    for (const command of ["users", "allowlist"]) {
      const result = await runCli([command, "--help"], offline);
      expect(result.code).toBe(0);
      expect(result.stdout).toStartWith(`usage: gatehouse ${command}`);
      expect(result.stdout).toContain("--json");
    }
    const top = await runCli(["--help"], offline);
    expect(top.stdout).toContain("  users ");
    expect(top.stdout).toContain("  allowlist ");
  });

  test("an unreachable database is one clear line and exit 1", async () => {
    const result = await runCli(["allowlist", "list"], {
      ...env,
      DATABASE_URL: "postgres://nobody@127.0.0.1:1/none",
    });
    expect(oneErrorLine(result)).toStartWith("gatehouse: cannot reach the database");
  });
});
