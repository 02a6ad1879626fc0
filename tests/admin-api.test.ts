import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { sql } from "slonik";
import { insertAuditEvent } from "../sql/audit-events.ts";
import { findUserById, insertUser } from "../sql/users.ts";
import { appTestSetup } from "./support/app.ts";
import { jsonSender } from "./support/requests.ts";
import { signedInUser, testPasswordHash } from "./support/sign-in.ts";

const { db, app } = await appTestSetup();

const admin = () => signedInUser(db.pool, app.config, { role: "admin", isWhitelisted: true });
const member = () => signedInUser(db.pool, app.config, { isWhitelisted: true });

const send = jsonSender(app);

async function expectProblem(response: Response, status: number) {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  return (await response.json()) as Record<string, unknown> & { errors?: { pointer: string }[] };
}

async function auditOf(userId: string, eventType: string) {
  return db.pool.any(sql.unsafe`
    SELECT event_type, result, user_id, actor_id, context FROM audit_events
    WHERE user_id = ${userId} AND event_type = ${eventType} ORDER BY occurred_at`);
}

describe("who may use the admin API", () => {
  const someId = crypto.randomUUID();
  const routes: [string, string, unknown?][] = [
    ["GET", "/admin/users"],
    ["GET", `/admin/users/${someId}`],
    ["PATCH", `/admin/users/${someId}`, { is_whitelisted: true }],
    ["DELETE", `/admin/users/${someId}`],
    ["POST", `/admin/users/${someId}/sessions/revoke`],
    ["GET", "/admin/allowlist"],
    ["POST", "/admin/allowlist", { kind: "domain", value: "example.org" }],
    ["DELETE", `/admin/allowlist/${someId}`],
    ["GET", "/admin/audit"],
    ["GET", "/admin/health"],
  ];

  test("anonymous callers get 401 on every admin route", async () => {
    for (const [method, path, body] of routes) {
      await expectProblem(await send(method, path, null, body), 401);
    }
  });

  test("signed-in non-admins get 403 on every admin route, approved or not", async () => {
    const approved = await member();
    const pending = await signedInUser(db.pool, app.config);
    for (const who of [approved, pending]) {
      for (const [method, path, body] of routes) {
        await expectProblem(await send(method, path, who.cookie, body), 403);
      }
    }
    const rules = await db.pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM allowlist_rules`);
    expect(rules).toBe(0);
  });

  test("a non-admin cannot approve themselves or promote themselves", async () => {
    const { user, cookie } = await signedInUser(db.pool, app.config);
    await expectProblem(
      await send("PATCH", `/admin/users/${user.id}`, cookie, { is_whitelisted: true }),
      403,
    );
    const approved = await member();
    await expectProblem(
      await send("PATCH", `/admin/users/${approved.user.id}`, approved.cookie, { role: "admin" }),
      403,
    );
    expect((await findUserById(db.pool, user.id))?.is_whitelisted).toBe(false);
    expect((await findUserById(db.pool, approved.user.id))?.role).toBe("user");
  });
});

describe("managing a user", () => {
  test("approving a pending user lets their existing session through the gate at once", async () => {
    const { cookie: adminCookie } = await admin();
    const pending = await signedInUser(db.pool, app.config);
    await expectProblem(await send("GET", "/me/accounts", pending.cookie), 403);
    expect((await send("GET", "/auth/verify", pending.cookie)).status).toBe(403);

    const response = await send("PATCH", `/admin/users/${pending.user.id}`, adminCookie, {
      is_whitelisted: true,
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ id: pending.user.id, is_whitelisted: true });

    const me = await send("GET", "/me", pending.cookie);
    expect(await me.json()).toMatchObject({ is_whitelisted: true });
    expect((await send("GET", "/me/accounts", pending.cookie)).status).toBe(200);
    const verify = await send("GET", "/auth/verify", pending.cookie);
    expect(verify.status).toBe(200);
    expect(verify.headers.get("x-auth-user-id")).toBe(pending.user.id);
  });

  test("deactivation kills the user's sessions, refresh tokens and bearer tokens at once", async () => {
    const { user: actor, cookie: adminCookie } = await admin();
    const target = await member();
    const issued = await send("POST", "/auth/token/session", target.cookie);
    expect(issued.status).toBe(200);
    const pair = (await issued.json()) as { access_token: string; refresh_token: string };
    const bearer = { authorization: `Bearer ${pair.access_token}` };
    expect((await app.request("/me", { headers: bearer })).status).toBe(200);
    expect((await send("GET", "/me", target.cookie)).status).toBe(200);

    const response = await send("PATCH", `/admin/users/${target.user.id}`, adminCookie, {
      status: "inactive",
    });
    expect(response.status).toBe(200);

    await expectProblem(await send("GET", "/me", target.cookie), 401);
    expect((await app.request("/me", { headers: bearer })).status).toBe(401);
    const refresh = await app.request("/auth/token", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ grant_type: "refresh_token", refresh_token: pair.refresh_token }),
    });
    expect(refresh.status).toBe(400);
    const state = await db.pool.one(sql.unsafe`
      SELECT (SELECT count(*)::int FROM sessions WHERE user_id = u.id AND revoked_at IS NULL) AS live_sessions,
             (SELECT count(*)::int FROM refresh_tokens WHERE user_id = u.id AND revoked_at IS NULL) AS live_refresh,
             u.tokens_valid_after IS NOT NULL AS tokens_cut, u.status
      FROM users u WHERE u.id = ${target.user.id}`);
    expect(state).toEqual({
      live_sessions: 0,
      live_refresh: 0,
      tokens_cut: true,
      status: "inactive",
    });
    const [event] = await auditOf(target.user.id, "admin.user_updated");
    expect(event).toMatchObject({ result: "success", actor_id: actor.id });
  });

  test("locking and unlocking: a locked user is signed out, unlocking clears a lockout", async () => {
    const { cookie: adminCookie } = await admin();
    const target = await member();
    await db.pool.query(sql.unsafe`
      UPDATE users SET failed_login_attempts = 5, locked_until = now() + interval '1 hour'
      WHERE id = ${target.user.id}`);
    await send("PATCH", `/admin/users/${target.user.id}`, adminCookie, { status: "locked" });
    await expectProblem(await send("GET", "/me", target.cookie), 401);
    const unlocked = await send("PATCH", `/admin/users/${target.user.id}`, adminCookie, {
      status: "active",
    });
    expect(await unlocked.json()).toMatchObject({
      status: "active",
      failed_login_attempts: 0,
      locked_until: null,
    });
  });

  test("GET /admin/users/:id shows the user, their accounts and live sessions, never a hash", async () => {
    const { cookie: adminCookie } = await admin();
    const target = await member();
    const response = await send("GET", `/admin/users/${target.user.id}`, adminCookie);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { user: { id: string }; sessions: { id: string }[] };
    expect(body.user.id).toBe(target.user.id);
    expect(body.sessions.map((s) => s.id)).toEqual([target.sessionId]);
    expect(JSON.stringify(body)).not.toContain("argon2");
  });

  test("revoking a user's sessions signs them out everywhere", async () => {
    const { user: actor, cookie: adminCookie } = await admin();
    const target = await member();
    const response = await send(
      "POST",
      `/admin/users/${target.user.id}/sessions/revoke`,
      adminCookie,
    );
    expect(await response.json()).toEqual({ revoked_sessions: 1, revoked_refresh_tokens: 0 });
    await expectProblem(await send("GET", "/me", target.cookie), 401);
    const [event] = await auditOf(target.user.id, "admin.sessions_revoked");
    expect(event).toMatchObject({ actor_id: actor.id });
  });

  test("bad input is a 400 problem and changes nothing", async () => {
    const { cookie: adminCookie } = await admin();
    const target = await member();
    for (const body of [
      {},
      { status: "deleted" },
      { role: "root" },
      { is_whitelisted: "yes" },
      { is_whitelisted: true, password_hash: "x" },
    ]) {
      await expectProblem(
        await send("PATCH", `/admin/users/${target.user.id}`, adminCookie, body),
        400,
      );
    }
    const bad = await app.request(`/admin/users/${target.user.id}`, {
      method: "PATCH",
      headers: {
        cookie: adminCookie,
        origin: app.config.http.PUBLIC_URL,
        "content-type": "application/json",
      },
      body: "{not json",
    });
    await expectProblem(bad, 400);
    expect(await findUserById(db.pool, target.user.id)).toEqual(target.user);
  });

  test("an unknown or malformed user id is a 404 problem", async () => {
    const { cookie: adminCookie } = await admin();
    for (const id of [crypto.randomUUID(), "not-a-uuid", "1%27%20OR%201=1"]) {
      await expectProblem(await send("GET", `/admin/users/${id}`, adminCookie), 404);
      await expectProblem(
        await send("PATCH", `/admin/users/${id}`, adminCookie, { role: "user" }),
        404,
      );
      await expectProblem(await send("DELETE", `/admin/users/${id}`, adminCookie), 404);
      await expectProblem(
        await send("POST", `/admin/users/${id}/sessions/revoke`, adminCookie),
        404,
      );
    }
  });

  test("soft deletion anonymises the row, erases the user's data and keeps audit rows", async () => {
    const { user: actor, cookie: adminCookie } = await admin();
    const target = await member();
    await insertAuditEvent(db.pool, {
      eventType: "login.succeeded",
      result: "success",
      userId: target.user.id,
      ip: "203.0.113.9",
      userAgent: "Firefox",
      context: { email: target.user.email },
    });
    const response = await send("DELETE", `/admin/users/${target.user.id}`, adminCookie);
    expect(response.status).toBe(204);

    const row = await findUserById(db.pool, target.user.id);
    expect(row).toMatchObject({
      status: "deleted",
      email: null,
      username: null,
      full_name: null,
      avatar_url: null,
      password_hash: null,
      is_whitelisted: false,
    });
    const sessions = await db.pool.oneFirst(
      sql.unsafe`SELECT count(*)::int FROM sessions WHERE user_id = ${target.user.id}`,
    );
    expect(sessions).toBe(0);
    const events = (await db.pool.any(sql.unsafe`
      SELECT event_type, actor_id, host(ip) AS ip, user_agent, context FROM audit_events
      WHERE user_id = ${target.user.id} ORDER BY occurred_at`)) as readonly Record<
      string,
      unknown
    >[];
    expect(events.map((e) => e.event_type)).toEqual(["login.succeeded", "admin.user_deleted"]);
    expect(events[0]).toMatchObject({ ip: null, user_agent: null, context: {} });
    expect(events[1]).toMatchObject({ actor_id: actor.id });
    await expectProblem(await send("DELETE", `/admin/users/${target.user.id}`, adminCookie), 404);
  });

  test("a deleted user drops out of the default list and can no longer be changed", async () => {
    const { cookie: adminCookie } = await admin();
    const target = await member();
    await send("DELETE", `/admin/users/${target.user.id}`, adminCookie);
    const listed = async (query: string) => {
      const body = (await (await send("GET", `/admin/users?${query}`, adminCookie)).json()) as {
        users: { id: string }[];
      };
      return body.users.some((u) => u.id === target.user.id);
    };
    expect(await listed("limit=200")).toBe(false);
    expect(await listed("status=deleted&limit=200")).toBe(true);
    await expectProblem(
      await send("PATCH", `/admin/users/${target.user.id}`, adminCookie, { status: "active" }),
      404,
    );
    expect((await findUserById(db.pool, target.user.id))?.status).toBe("deleted");
  });

  test("?hard=true removes the row, and audit rows keep the user id", async () => {
    const { cookie: adminCookie } = await admin();
    const target = await member();
    const response = await send("DELETE", `/admin/users/${target.user.id}?hard=true`, adminCookie);
    expect(response.status).toBe(204);
    expect(await findUserById(db.pool, target.user.id)).toBeNull();
    expect(await auditOf(target.user.id, "admin.user_deleted")).toHaveLength(1);
    await expectProblem(
      await send("DELETE", `/admin/users/${crypto.randomUUID()}?hard=maybe`, adminCookie),
      400,
    );
  });
});

describe("listing users", () => {
  test("search matches email, username and full name; status and whitelisted filter", async () => {
    const { cookie: adminCookie } = await admin();
    const tag = `zq${randomBytes(4).toString("hex")}`;
    const byEmail = await insertUser(db.pool, {
      email: `${tag}@example.com`,
      emailVerified: true,
      passwordHash: testPasswordHash,
    });
    const byName = await insertUser(db.pool, {
      email: null,
      emailVerified: false,
      fullName: `Ada ${tag.toUpperCase()} Lovelace`,
      passwordHash: testPasswordHash,
      isWhitelisted: true,
    });
    const byUsername = await insertUser(db.pool, {
      email: null,
      emailVerified: false,
      username: `${tag}_user`,
      passwordHash: testPasswordHash,
    });
    const list = async (query: string) => {
      const response = await send("GET", `/admin/users?${query}`, adminCookie);
      expect(response.status).toBe(200);
      const body = (await response.json()) as { users: { id: string }[] };
      return body.users.map((u) => u.id).sort();
    };
    expect(await list(`q=${tag}`)).toEqual([byEmail.id, byName.id, byUsername.id].sort());
    expect(await list(`q=${tag}&whitelisted=true`)).toEqual([byName.id]);
    expect(await list(`q=${tag}&whitelisted=false`)).toEqual([byEmail.id, byUsername.id].sort());
    await db.pool.query(sql.unsafe`UPDATE users SET status = 'inactive' WHERE id = ${byEmail.id}`);
    expect(await list(`q=${tag}&status=inactive`)).toEqual([byEmail.id]);
    // LIKE wildcards in the search are literal characters.
    expect(await list("q=%25")).toEqual([]);
    expect(await list("q=_")).toEqual([byUsername.id]);
  });

  test("bad list parameters are 400 problems", async () => {
    const { cookie: adminCookie } = await admin();
    for (const query of [
      "limit=0",
      "limit=abc",
      "status=gone",
      "whitelisted=maybe",
      "cursor=xyz",
    ]) {
      await expectProblem(await send("GET", `/admin/users?${query}`, adminCookie), 400);
    }
  });

  test("pagination returns every row exactly once while users are being inserted", async () => {
    const { cookie: adminCookie } = await admin();
    const tag = `pg${randomBytes(4).toString("hex")}`;
    const before: string[] = [];
    // Batches share one transaction, hence one created_at: ties the cursor's id must break.
    for (let batch = 0; batch < 12; batch++) {
      await db.pool.transaction(async (tx) => {
        for (let i = 0; i < 10; i++) {
          const user = await insertUser(tx, {
            email: null,
            emailVerified: false,
            fullName: `${tag} ${batch}-${i}`,
            passwordHash: testPasswordHash,
          });
          before.push(user.id);
        }
      });
    }
    let inserting = true;
    let n = 0;
    const inserter = (async () => {
      while (inserting && n < 200) {
        await insertUser(db.pool, {
          email: null,
          emailVerified: false,
          fullName: `${tag} late-${n++}`,
          passwordHash: testPasswordHash,
        });
      }
    })();

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `q=${tag}&limit=7${cursor ? `&cursor=${cursor}` : ""}`;
      const response = await send("GET", `/admin/users?${query}`, adminCookie);
      expect(response.status).toBe(200);
      const body = (await response.json()) as {
        users: { id: string }[];
        next_cursor: string | null;
      };
      seen.push(...body.users.map((u) => u.id));
      cursor = body.next_cursor;
      pages++;
    } while (cursor);
    inserting = false;
    const insertedWhilePaging = n;
    await inserter;

    expect(insertedWhilePaging).toBeGreaterThan(0);
    expect(pages).toBeGreaterThan(10);
    expect(new Set(seen).size).toBe(seen.length);
    const seenSet = new Set(seen);
    expect(before.filter((id) => !seenSet.has(id))).toEqual([]);
  });
});

describe("allowlist rules", () => {
  test("an admin adds, lists and deletes rules, each audited with the actor", async () => {
    const { user: actor, cookie: adminCookie } = await admin();
    const created = await send("POST", "/admin/allowlist", adminCookie, {
      kind: "domain",
      value: " Example.COM ",
    });
    expect(created.status).toBe(201);
    const rule = (await created.json()) as { id: string; value: string; created_by: string };
    expect(rule).toMatchObject({ value: "example.com", created_by: actor.id });

    await expectProblem(
      await send("POST", "/admin/allowlist", adminCookie, { kind: "domain", value: "example.com" }),
      409,
    );
    const listed = (await (await send("GET", "/admin/allowlist", adminCookie)).json()) as {
      rules: { id: string }[];
    };
    expect(listed.rules.map((r) => r.id)).toContain(rule.id);

    expect((await send("DELETE", `/admin/allowlist/${rule.id}`, adminCookie)).status).toBe(204);
    await expectProblem(await send("DELETE", `/admin/allowlist/${rule.id}`, adminCookie), 404);
    await expectProblem(await send("DELETE", "/admin/allowlist/nope", adminCookie), 404);

    const events = (await db.pool.any(sql.unsafe`
      SELECT event_type, actor_id FROM audit_events
      WHERE actor_id = ${actor.id} AND event_type LIKE 'admin.allowlist_rule_%' ORDER BY occurred_at`)) as readonly Record<
      string,
      unknown
    >[];
    expect(events.map((e) => e.event_type)).toEqual([
      "admin.allowlist_rule_added",
      "admin.allowlist_rule_deleted",
    ]);
  });

  /** Each body is a 400 problem, and no rule is stored. */
  async function expectRulesRefused(adminCookie: string, bodies: object[]) {
    for (const body of bodies) {
      await expectProblem(await send("POST", "/admin/allowlist", adminCookie, body), 400);
    }
    expect(await db.pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM allowlist_rules`)).toBe(0);
  }

  test("rules of the wrong shape are 400 problems before the database sees them", async () => {
    const { cookie: adminCookie } = await admin();
    const bad = [
      { kind: "email", value: "not-an-email" },
      { kind: "domain", value: "localhost" },
      { kind: "domain", value: "-bad-.com" },
      { kind: "github_org", value: "has space" },
      { kind: "github_team", value: "org-without-team" },
      { kind: "ip", value: "10.0.0.1" },
      { kind: "email" },
      { kind: "domain", value: "example.com", extra: 1 },
      { kind: "email", value: `${"a".repeat(250)}@example.com` },
    ];
    await expectRulesRefused(adminCookie, bad);
  });

  test("allowlist rule values take the same address and domain checks as sign-up: `%@%` is refused", async () => {
    const { cookie: adminCookie } = await admin();
    const badAddresses = [
      "%@%",
      "%@example.com",
      "*@example.com",
      "a@b",
      "a@%.example.com",
      "nul\u0000@example.com",
      "\ud800@example.com",
    ];
    const badDomains = ["%", "%.example.com", "*.example.com", "example.123"];
    await expectRulesRefused(adminCookie, [
      ...badAddresses.map((value) => ({ kind: "email", value })),
      ...badDomains.map((value) => ({ kind: "domain", value })),
    ]);
    const good = await send("POST", "/admin/allowlist", adminCookie, {
      kind: "email",
      value: " Ann.O'Brien+x@Example.org ",
    });
    expect(good.status).toBe(201);
    expect(((await good.json()) as { value: string }).value).toBe("ann.o'brien+x@example.org");
    await db.pool.query(sql.unsafe`DELETE FROM allowlist_rules`);
  });
});

describe("the audit log", () => {
  test("filters by user, event type, result and time, newest first, in combination", async () => {
    const { cookie: adminCookie } = await admin();
    const alice = crypto.randomUUID();
    const bob = crypto.randomUUID();
    const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();
    const seed: [string, string, string, number][] = [
      [alice, "login.succeeded", "success", 50],
      [alice, "login.failed", "failure", 40],
      [alice, "login.failed", "failure", 30],
      [bob, "login.failed", "failure", 20],
      [alice, "logout", "success", 10],
    ];
    for (const [userId, type, result, minutesAgo] of seed) {
      await db.pool.query(sql.unsafe`
        INSERT INTO audit_events (occurred_at, event_type, result, user_id)
        VALUES (${at(minutesAgo)}, ${type}, ${result}, ${userId})`);
    }
    const events = async (query: string) => {
      const response = await send("GET", `/admin/audit?${query}`, adminCookie);
      expect(response.status).toBe(200);
      const body = (await response.json()) as {
        events: { user_id: string; event_type: string; occurred_at: string }[];
      };
      return body.events.map((e) => `${e.user_id === alice ? "alice" : "bob"}:${e.event_type}`);
    };

    expect(await events(`user_id=${alice}`)).toEqual([
      "alice:logout",
      "alice:login.failed",
      "alice:login.failed",
      "alice:login.succeeded",
    ]);
    expect(await events(`user_id=${alice}&result=failure`)).toEqual([
      "alice:login.failed",
      "alice:login.failed",
    ]);
    expect(await events(`event_type=login.failed&since=${encodeURIComponent(at(35))}`)).toEqual([
      "bob:login.failed",
      "alice:login.failed",
    ]);
    expect(
      await events(
        `user_id=${alice}&since=${encodeURIComponent(at(45))}&until=${encodeURIComponent(at(15))}`,
      ),
    ).toEqual(["alice:login.failed", "alice:login.failed"]);
    expect(await events(`user_id=${bob}&event_type=logout`)).toEqual([]);
  });

  test("the cursor walks the log newest first without repeating an event", async () => {
    const { cookie: adminCookie } = await admin();
    const userId = crypto.randomUUID();
    // One statement: eight events with the very same occurred_at, ordered by id.
    await db.pool.query(sql.unsafe`
      INSERT INTO audit_events (event_type, result, user_id)
      SELECT 'test.paged', 'success', ${userId}::uuid FROM generate_series(1, 8)`);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `user_id=${userId}&limit=3${cursor ? `&cursor=${cursor}` : ""}`;
      const body = (await (await send("GET", `/admin/audit?${query}`, adminCookie)).json()) as {
        events: { id: string }[];
        next_cursor: string | null;
      };
      seen.push(...body.events.map((e) => e.id));
      cursor = body.next_cursor;
    } while (cursor);
    expect(seen).toHaveLength(8);
    expect(new Set(seen).size).toBe(8);
  });

  test("bad filters are 400 problems", async () => {
    const { cookie: adminCookie } = await admin();
    for (const query of [
      "user_id=nope",
      "result=maybe",
      "event_type=DROP%20TABLE",
      "since=yesterday",
      `since=${encodeURIComponent("2026-01-02T00:00:00Z")}&until=${encodeURIComponent("2026-01-01T00:00:00Z")}`,
      "limit=100000",
      "cursor=Zm9vfGJhcg",
    ]) {
      await expectProblem(await send("GET", `/admin/audit?${query}`, adminCookie), 400);
    }
  });
});

describe("admin health", () => {
  test("GET /admin/health serves the detailed health report with the auth figures", async () => {
    const { cookie } = await admin();
    await member();
    const response = await send("GET", "/admin/health", cookie);
    expect(response.status).toBe(200);
    const report = (await response.json()) as {
      status: string;
      database: { reachable: boolean; server_version: string };
      tables: { table: string }[];
      auth: { users: { admins: number; total: number }; active_sessions: number };
    };
    expect(report.status).toBe("ok");
    expect(report.database.reachable).toBe(true);
    expect(report.tables.map((t) => t.table)).toContain("users");
    expect(report.auth.users.admins).toBeGreaterThanOrEqual(1);
    expect(report.auth.active_sessions).toBeGreaterThanOrEqual(2);
  });
});
