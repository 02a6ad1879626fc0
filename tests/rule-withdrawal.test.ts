import { describe, expect, test } from "bun:test";
import { sql } from "slonik";
import { findUserById, insertUser, recordUserLogin, type User } from "../sql/users.ts";
import { grantRightsOfIdentity } from "../src/gate/grant-rights.ts";
import { hashPassword } from "../src/password/hashing.ts";
import { appTestSetup, startTestApp } from "./support/app.ts";
import { createTestDatabase, testLogger } from "./support/database.ts";
import { jsonSender } from "./support/requests.ts";
import { signedInUser, testPasswordHash } from "./support/sign-in.ts";
import { plantWebhookEndpoint } from "./support/webhook-endpoints.ts";

// Deleting an allowlist rule takes back the approvals only it gave: users it
// alone let in are pending again and signed out; users another rule or
// ADMIN_EMAILS also lets in, and users an administrator approved by hand,
// keep access. The impact shown first is what the deletion then does.

const { db, app } = await appTestSetup({
  ADMIN_EMAILS: "boss@rules.example",
  // Every sign-in comes from 127.0.0.1: the per-address limit is not under test.
  RATE_LIMIT_LOGIN_IP: "1000/5m",
});
const { pool } = db;

const send = jsonSender(app);
const password = "correct horse battery staple";
let counter = 0;

const admin = () => signedInUser(pool, app.config, { role: "admin", isWhitelisted: true });

/** A user with a password and a verified address at `domain`, not approved yet. */
async function person(domain: string, local = `p${++counter}`, verified = true): Promise<User> {
  return insertUser(pool, {
    email: `${local}@${domain}`,
    emailVerified: verified,
    passwordHash: await hashPassword(password, app.config.passwords),
  });
}

/** Signs in through POST /auth/login (which applies the rules); the session cookie. */
async function signIn(who: User): Promise<string> {
  const response = await send("POST", "/auth/login", null, { email: who.email, password });
  expect(response.status).toBe(200);
  const header = response.headers.getSetCookie().find((h) => h.startsWith("gatehouse_session="));
  return (header ?? "").split(";")[0] ?? "";
}

async function addRule(cookie: string, kind: string, value: string): Promise<string> {
  const response = await send("POST", "/admin/allowlist", cookie, { kind, value });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

const ruleExists = async (id: string) =>
  (await pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM allowlist_rules WHERE id = ${id}`)) ===
  1;

const reload = async (who: User) => (await findUserById(pool, who.id)) as User;

async function unapprovedEvents(ruleId: string) {
  return (await pool.any(sql.unsafe`
    SELECT user_id, actor_id, context FROM audit_events
    WHERE event_type = 'user.unapproved' AND context ->> 'rule_id' = ${ruleId}`)) as readonly {
    user_id: string;
    actor_id: string | null;
    context: Record<string, unknown>;
  }[];
}

async function expectProblem(response: Response, status: number, code?: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  const body = (await response.json()) as { code: string };
  if (code) expect(body.code).toBe(code);
}

/**
 * Rule `domain` covers: one user only it lets in, one an `email` rule also
 * lets in, one ADMIN_EMAILS lets in, one an administrator approved by hand,
 * and one whose address is unverified (pending, untouched).
 */
async function coveredUsers(domain: string) {
  const { cookie, user: actor } = await admin();
  const domainRule = await addRule(cookie, "domain", domain);
  const alone = await person(domain);
  const twice = await person(domain);
  const emailRule = await addRule(cookie, "email", twice.email ?? "");
  const byHand = await person(domain);
  const approve = await send("PATCH", `/admin/users/${byHand.id}`, cookie, {
    is_whitelisted: true,
  });
  expect(approve.status).toBe(200);
  const unverified = await person(domain, `u${++counter}`, false);
  const cookies = {
    alone: await signIn(alone),
    twice: await signIn(twice),
    byHand: await signIn(byHand),
  };
  return { cookie, actor, domainRule, emailRule, alone, twice, byHand, unverified, cookies };
}

describe("deleting a rule", () => {
  test("a sign-in a rule approves records the rule and when", async () => {
    const { cookie } = await admin();
    const rule = await addRule(cookie, "domain", "recorded.example");
    const who = await person("recorded.example");
    await signIn(who);
    const after = await reload(who);
    expect(after).toMatchObject({ is_whitelisted: true, approved_by_rule_id: rule });
    expect(after.approved_at).toBeInstanceOf(Date);
    expect(after.approval_decided_at).toBeNull();
  });

  test("un-approves and signs out exactly the users that rule alone let in", async () => {
    const s = await coveredUsers("alpha.example");
    const deleted = await send("DELETE", `/admin/allowlist/${s.domainRule}`, s.cookie);
    expect(deleted.status).toBe(204);

    expect(await reload(s.alone)).toMatchObject({
      is_whitelisted: false,
      approved_by_rule_id: null,
    });
    expect((await send("GET", "/me", s.cookies.alone)).status).toBe(401);
    // Another rule still lets this one in: kept, now recorded under it.
    expect(await reload(s.twice)).toMatchObject({
      is_whitelisted: true,
      approved_by_rule_id: s.emailRule,
    });
    expect((await send("GET", "/me", s.cookies.twice)).status).toBe(200);
    // An administrator's approval is never touched by rules.
    expect(await reload(s.byHand)).toMatchObject({ is_whitelisted: true });
    expect((await send("GET", "/me", s.cookies.byHand)).status).toBe(200);
    expect((await reload(s.unverified)).is_whitelisted).toBe(false);
  });

  test("a user ADMIN_EMAILS names keeps access when the rule that let them in goes", async () => {
    const { cookie } = await admin();
    const rule = await addRule(cookie, "domain", "rules.example");
    const boss = await person("rules.example", "boss");
    const bossCookie = await signIn(boss);
    expect(await reload(boss)).toMatchObject({ role: "admin", approved_by_rule_id: rule });
    const impact = await send("GET", `/admin/allowlist/${rule}/impact`, cookie);
    expect(await impact.json()).toMatchObject({ unapproved: 0, kept: 1 });
    expect((await send("DELETE", `/admin/allowlist/${rule}`, cookie)).status).toBe(204);
    expect(await reload(boss)).toMatchObject({ is_whitelisted: true, approved_by_rule_id: null });
    expect((await send("GET", "/admin/users", bossCookie)).status).toBe(200);
  });

  test("each user who loses access is audited user.unapproved with the rule, in the deletion's transaction", async () => {
    const s = await coveredUsers("beta.example");
    expect((await send("DELETE", `/admin/allowlist/${s.domainRule}`, s.cookie)).status).toBe(204);
    const events = await unapprovedEvents(s.domainRule);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      user_id: s.alone.id,
      actor_id: s.actor.id,
      context: {
        reason: "allowlist_rule_deleted",
        allowlist_rule: "domain:beta.example",
        revoked_sessions: 1,
      },
    });
    const deletion = await pool.oneFirst(sql.unsafe`
      SELECT context FROM audit_events WHERE event_type = 'admin.allowlist_rule_deleted'
        AND context ->> 'rule_id' = ${s.domainRule}`);
    expect(deletion).toMatchObject({ unapproved: 1 });
  });

  test("each user who loses access is queued to subscribed webhooks as user.unapproved", async () => {
    const endpoint = await plantWebhookEndpoint(pool, app.config, {
      url: "https://hooks.example.com/gatehouse",
      events: ["user.unapproved"],
      secret: "whsec_dGVzdHRlc3R0ZXN0dGVzdHRlc3R0ZXN0dGVzdHRlc3Q=",
      createdBy: null,
    });
    const s = await coveredUsers("webhooked.example");
    expect((await send("DELETE", `/admin/allowlist/${s.domainRule}`, s.cookie)).status).toBe(204);
    const queued = await pool.any(sql.unsafe`
      SELECT event_type, payload FROM webhook_deliveries WHERE endpoint_id = ${endpoint.id}`);
    expect(queued).toHaveLength(1);
    expect(queued[0]).toMatchObject({
      event_type: "user.unapproved",
      payload: { type: "user.unapproved", data: { user_id: s.alone.id, rule_id: s.domainRule } },
    });
  });

  test("the impact shown first is the number of users the deletion then un-approves", async () => {
    const s = await coveredUsers("gamma.example");
    const extra = await person("gamma.example");
    await signIn(extra);
    const impact = await send("GET", `/admin/allowlist/${s.domainRule}/impact`, s.cookie);
    expect(impact.status).toBe(200);
    const shown = (await impact.json()) as {
      unapproved: number;
      kept: number;
      rule: { id: string };
    };
    expect(shown).toMatchObject({ unapproved: 2, kept: 1, rule: { id: s.domainRule } });
    const deleted = await send(
      "DELETE",
      `/admin/allowlist/${s.domainRule}?expected_unapproved=${shown.unapproved}`,
      s.cookie,
    );
    expect(deleted.status).toBe(204);
    expect(await unapprovedEvents(s.domainRule)).toHaveLength(shown.unapproved);
  });

  test("a deletion expecting another count than it would now take is refused and changes nothing", async () => {
    const s = await coveredUsers("delta.example");
    const refused = await send(
      "DELETE",
      `/admin/allowlist/${s.domainRule}?expected_unapproved=0`,
      s.cookie,
    );
    await expectProblem(refused, 409, "rule_impact_changed");
    expect((await reload(s.alone)).is_whitelisted).toBe(true);
    expect((await send("GET", "/me", s.cookies.alone)).status).toBe(200);
    expect(await ruleExists(s.domainRule)).toBe(true);
  });

  test("narrowing: adding the narrower rule first, then deleting the broader, keeps the users the narrower covers", async () => {
    const { cookie } = await admin();
    const broad = await addRule(cookie, "domain", "narrow.example");
    const staying = await person("narrow.example");
    const leaving = await person("narrow.example");
    await signIn(staying);
    await signIn(leaving);
    const narrow = await addRule(cookie, "email", staying.email ?? "");
    const impact = await send("GET", `/admin/allowlist/${broad}/impact`, cookie);
    expect(await impact.json()).toMatchObject({ unapproved: 1, kept: 1 });
    expect((await send("DELETE", `/admin/allowlist/${broad}`, cookie)).status).toBe(204);
    expect(await reload(staying)).toMatchObject({
      is_whitelisted: true,
      approved_by_rule_id: narrow,
    });
    expect((await reload(leaving)).is_whitelisted).toBe(false);
  });

  test("a deletion that would leave no usable administrator is refused", async () => {
    const lone = await createTestDatabase();
    const loneApp = await startTestApp(lone.pool, { RATE_LIMIT_LOGIN_IP: "1000/5m" });
    try {
      const rule = await lone.pool.oneFirst(sql.unsafe`
        INSERT INTO allowlist_rules (kind, value) VALUES ('domain', 'lone.example') RETURNING id`);
      const only = await insertUser(lone.pool, {
        email: "only@lone.example",
        emailVerified: true,
        passwordHash: testPasswordHash,
        role: "admin",
        isWhitelisted: true,
        approvedByRuleId: String(rule),
      });
      const { cookie } = await signedInUser(lone.pool, loneApp.config, {
        email: "other@lone.example",
        role: "admin",
        isWhitelisted: true,
        approvedByRuleId: String(rule),
      });
      const loneSend = jsonSender(loneApp);
      await expectProblem(
        await loneSend("DELETE", `/admin/allowlist/${rule}`, cookie),
        409,
        "last_admin",
      );
      expect((await findUserById(lone.pool, only.id))?.is_whitelisted).toBe(true);
    } finally {
      await loneApp.close();
      await lone.drop();
    }
  });

  test("two deletions of the same rule at once: one deletes, the other finds nothing; each user audited once", async () => {
    const s = await coveredUsers("race.example");
    const answers = await Promise.all([
      send("DELETE", `/admin/allowlist/${s.domainRule}`, s.cookie),
      send("DELETE", `/admin/allowlist/${s.domainRule}`, s.cookie),
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([204, 404]);
    expect(await unapprovedEvents(s.domainRule)).toHaveLength(1);
  });

  test("an approval the rule is giving while it is deleted is taken back: no approval outlives its rule", async () => {
    const { cookie } = await admin();
    const rule = await addRule(cookie, "domain", "racing.example");
    const racer = await person("racing.example");
    const deletions: Promise<Response>[] = [];
    // A sign-in's transaction, held open after the rule approved the user
    // (the same grant completeSignIn applies), while the deletion starts.
    await pool.transaction(async (tx) => {
      const granted = await grantRightsOfIdentity(
        tx,
        { config: app.config, logger: testLogger },
        racer,
        { email: racer.email, emailVerified: true },
        { ip: null, userAgent: null, via: "password_login" },
      );
      expect(granted).toMatchObject({ is_whitelisted: true, approved_by_rule_id: rule });
      deletions.push(send("DELETE", `/admin/allowlist/${rule}`, cookie));
      await Bun.sleep(300);
    });
    expect((await Promise.all(deletions)).map((d) => d.status)).toEqual([204]);
    expect(await reload(racer)).toMatchObject({ is_whitelisted: false, approved_by_rule_id: null });
    expect(await unapprovedEvents(rule)).toHaveLength(1);
  });

  test("the sign-in of a user the rule already let in never deadlocks with the rule's deletion", async () => {
    const { cookie } = await admin();
    const rule = await addRule(cookie, "domain", "signing.example");
    const member = await person("signing.example");
    await signIn(member);
    const deletions: Promise<Response>[] = [];
    // completeSignIn's order: the user's row first (the login is recorded),
    // then the grants; the deletion meanwhile holds the rule and waits for the row.
    await pool.transaction(async (tx) => {
      const recorded = (await recordUserLogin(tx, member.id)) as User;
      deletions.push(send("DELETE", `/admin/allowlist/${rule}`, cookie));
      await Bun.sleep(300);
      await grantRightsOfIdentity(
        tx,
        { config: app.config, logger: testLogger },
        recorded,
        { email: member.email, emailVerified: true },
        { ip: null, userAgent: null, via: "password_login" },
      );
    });
    expect((await Promise.all(deletions)).map((d) => d.status)).toEqual([204]);
    expect((await reload(member)).is_whitelisted).toBe(false);
  });

  test("bad input is a 4xx problem and changes nothing", async () => {
    const { cookie } = await admin();
    const rule = await addRule(cookie, "domain", "input.example");
    await expectProblem(
      await send("GET", "/admin/allowlist/nope/impact", cookie),
      404,
      "rule_not_found",
    );
    await expectProblem(
      await send("GET", `/admin/allowlist/${crypto.randomUUID()}/impact`, cookie),
      404,
      "rule_not_found",
    );
    for (const expected of ["abc", "-1", "1.5"]) {
      await expectProblem(
        await send("DELETE", `/admin/allowlist/${rule}?expected_unapproved=${expected}`, cookie),
        400,
        "validation_failed",
      );
    }
    expect(await ruleExists(rule)).toBe(true);
  });

  test("deleting a rule needs a recent sign-in; reading its impact does not", async () => {
    const { cookie, user } = await admin();
    const rule = await addRule(cookie, "domain", "stale.example");
    await pool.query(sql.unsafe`
      UPDATE sessions SET authenticated_at = now() - interval '1 day' WHERE user_id = ${user.id}`);
    expect((await send("GET", `/admin/allowlist/${rule}/impact`, cookie)).status).toBe(200);
    await expectProblem(
      await send("DELETE", `/admin/allowlist/${rule}`, cookie),
      401,
      "reauth_required",
    );
    expect(await ruleExists(rule)).toBe(true);
  });

  test("non-administrators cannot read a rule's impact", async () => {
    const { cookie } = await signedInUser(pool, app.config, { isWhitelisted: true });
    await expectProblem(
      await send("GET", `/admin/allowlist/${crypto.randomUUID()}/impact`, cookie),
      403,
    );
  });
});
