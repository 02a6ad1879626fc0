import { describe, expect, test } from "bun:test";
import { sql } from "slonik";
import { upsertAllowlistRule } from "../sql/allowlist-rules.ts";
import { insertUser, type NewUser, type User } from "../sql/users.ts";
import { hashPassword } from "../src/password/hashing.ts";
import { appTestSetup, startTestApp } from "./support/app.ts";
import { jsonSender } from "./support/requests.ts";
import {
  linkTokenlessAccount,
  plantPasskey,
  signedInUser,
  testPasswordHash,
} from "./support/sign-in.ts";

// GET /admin/users/:id/access says why a user is or is not let in, and
// POST /admin/allowlist/dry-run whether a rule would let one in.

const { db, app } = await appTestSetup({
  ADMIN_EMAILS: "chief@explain.example",
  RATE_LIMIT_LOGIN_IP: "1000/5m",
});
const { pool } = db;

const send = jsonSender(app);
const { cookie: adminCookie, user: adminUser } = await signedInUser(pool, app.config, {
  role: "admin",
  isWhitelisted: true,
});
let counter = 0;

/** A user at `domain` (verified unless said) with a password, as given. */
function someone(domain: string, fields: Partial<NewUser> = {}): Promise<User> {
  return insertUser(pool, {
    email: `x${++counter}@${domain}`,
    emailVerified: true,
    passwordHash: testPasswordHash,
    ...fields,
  });
}

type Explanation = {
  let_in: boolean;
  status: string;
  missing: string[];
  approval: {
    approved: boolean;
    source: string | null;
    approved_at: string | null;
    rule: { id: string; kind: string; value: string } | null;
    decided_by_administrator: {
      at: string | null;
      administrator: { id: string; email: string | null } | null;
    } | null;
  };
  rule_at_next_sign_in: { id: string } | null;
};

async function explain(userId: string, target = { send, cookie: adminCookie }) {
  const response = await target.send("GET", `/admin/users/${userId}/access`, target.cookie);
  expect(response.status).toBe(200);
  return (await response.json()) as Explanation;
}

async function expectProblem(response: Response, status: number, code?: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  if (code) expect(((await response.json()) as { code: string }).code).toBe(code);
}

describe("GET /admin/users/:id/access", () => {
  test("a user an administrator approved: by whom and when", async () => {
    const who = await someone("hand.example");
    const approved = await send("PATCH", `/admin/users/${who.id}`, adminCookie, {
      is_whitelisted: true,
    });
    expect(approved.status).toBe(200);
    const answer = await explain(who.id);
    expect(answer).toMatchObject({
      let_in: true,
      missing: [],
      approval: {
        approved: true,
        source: "administrator",
        rule: null,
        decided_by_administrator: {
          administrator: { id: adminUser.id, email: adminUser.email },
        },
      },
    });
    expect(answer.approval.approved_at).not.toBeNull();
    expect(answer.approval.decided_by_administrator?.at).not.toBeNull();
  });

  test("a user a rule let in at sign-in: which rule", async () => {
    const rule = await upsertAllowlistRule(pool, {
      kind: "domain",
      value: "ruled.example",
      createdBy: null,
    });
    const password = "correct horse battery staple";
    const who = await someone("ruled.example", {
      passwordHash: await hashPassword(password, app.config.passwords),
    });
    const login = await send("POST", "/auth/login", null, { email: who.email, password });
    expect(login.status).toBe(200);
    expect(await explain(who.id)).toMatchObject({
      let_in: true,
      approval: {
        approved: true,
        source: "allowlist_rule",
        rule: { id: rule.id, kind: "domain", value: "ruled.example" },
        decided_by_administrator: null,
      },
    });
  });

  test("an ADMIN_EMAILS address, and an approval from before it was recorded", async () => {
    const chief = await insertUser(pool, {
      email: "chief@explain.example",
      emailVerified: true,
      passwordHash: testPasswordHash,
      isWhitelisted: true,
      role: "admin",
    });
    expect((await explain(chief.id)).approval.source).toBe("admin_emails");
    const old = await someone("old.example", { isWhitelisted: true });
    expect((await explain(old.id)).approval.source).toBe("not_recorded");
  });

  test("a pending user with an unverified address: pending and the address to verify", async () => {
    const who = await someone("unverified.example", { emailVerified: false });
    expect(await explain(who.id)).toMatchObject({
      let_in: false,
      missing: ["pending_approval", "email_unverified"],
      approval: { approved: false, source: null, approved_at: null },
    });
  });

  test("a pending user a rule now matches: the rule that lets them in at their next sign-in", async () => {
    const rule = await upsertAllowlistRule(pool, {
      kind: "domain",
      value: "next.example",
      createdBy: null,
    });
    const who = await someone("next.example");
    expect(await explain(who.id)).toMatchObject({
      let_in: false,
      missing: ["pending_approval"],
      rule_at_next_sign_in: { id: rule.id },
    });
  });

  test("a user an administrator un-approved: pending, decided, no rule will let them in", async () => {
    await upsertAllowlistRule(pool, { kind: "domain", value: "undone.example", createdBy: null });
    const who = await someone("undone.example", { isWhitelisted: true });
    const undone = await send("PATCH", `/admin/users/${who.id}`, adminCookie, {
      is_whitelisted: false,
    });
    expect(undone.status).toBe(200);
    const answer = await explain(who.id);
    expect(answer).toMatchObject({
      let_in: false,
      missing: ["pending_approval"],
      rule_at_next_sign_in: null,
    });
    expect(answer.approval.decided_by_administrator?.administrator?.id).toBe(adminUser.id);
  });

  test("denied and inactive users: the status that keeps them out", async () => {
    const denied = await someone("denied.example");
    const deny = await send("PATCH", `/admin/users/${denied.id}`, adminCookie, {
      status: "denied",
      reason: "not on the team",
    });
    expect(deny.status).toBe(200);
    expect(await explain(denied.id)).toMatchObject({
      let_in: false,
      status: "denied",
      missing: ["denied"],
    });
    const inactive = await someone("inactive.example", { isWhitelisted: true });
    await send("PATCH", `/admin/users/${inactive.id}`, adminCookie, { status: "inactive" });
    expect(await explain(inactive.id)).toMatchObject({ let_in: false, missing: ["inactive"] });
  });

  test("under MFA_REQUIRED=admins an administrator without a second factor is missing one", async () => {
    const strict = await startTestApp(pool, { MFA_REQUIRED: "admins" });
    try {
      const strictSend = jsonSender(strict);
      const { cookie } = await signedInUser(pool, strict.config, {
        role: "admin",
        isWhitelisted: true,
      });
      const target = { send: strictSend, cookie };
      const bare = await someone("mfa.example", { role: "admin", isWhitelisted: true });
      expect(await explain(bare.id, target)).toMatchObject({
        let_in: false,
        missing: ["second_factor"],
      });
      const member = await someone("mfa.example", { isWhitelisted: true });
      expect(await explain(member.id, target)).toMatchObject({ let_in: true, missing: [] });
      await plantPasskey(pool, bare.id);
      expect(await explain(bare.id, target)).toMatchObject({ let_in: true, missing: [] });
    } finally {
      await strict.close();
    }
  });

  test("an unknown or malformed id is a 404 problem; non-administrators get 403", async () => {
    await expectProblem(
      await send("GET", `/admin/users/${crypto.randomUUID()}/access`, adminCookie),
      404,
      "user_not_found",
    );
    await expectProblem(
      await send("GET", "/admin/users/nope/access", adminCookie),
      404,
      "user_not_found",
    );
    const { cookie } = await signedInUser(pool, app.config, { isWhitelisted: true });
    const who = await someone("private.example");
    await expectProblem(await send("GET", `/admin/users/${who.id}/access`, cookie), 403);
  });
});

describe("POST /admin/allowlist/dry-run", () => {
  const dryRun = (rule: unknown, userId: unknown, cookie = adminCookie) =>
    send("POST", "/admin/allowlist/dry-run", cookie, { rule, user_id: userId });

  async function answer(rule: unknown, userId: string) {
    const response = await dryRun(rule, userId);
    expect(response.status).toBe(200);
    return response.json();
  }

  test("a rule matching the verified address would let the user in; another would not", async () => {
    const who = await someone("dry.example");
    expect(await answer({ kind: "domain", value: "DRY.example" }, who.id)).toEqual({
      would_admit: true,
      reason: "matches",
    });
    expect(await answer({ kind: "email", value: who.email }, who.id)).toMatchObject({
      would_admit: true,
    });
    expect(await answer({ kind: "domain", value: "wet.example" }, who.id)).toEqual({
      would_admit: false,
      reason: "no_match",
    });
  });

  test("an unverified address would match once verified", async () => {
    const who = await someone("claimed.example", { emailVerified: false });
    expect(await answer({ kind: "domain", value: "claimed.example" }, who.id)).toEqual({
      would_admit: false,
      reason: "email_unverified",
    });
  });

  test("GitHub rules match the memberships last read; none read is said so", async () => {
    const who = await someone("octo.example");
    expect(await answer({ kind: "github_org", value: "acme" }, who.id)).toEqual({
      would_admit: false,
      reason: "github_memberships_unknown",
    });
    await linkTokenlessAccount(pool, {
      userId: who.id,
      providerUserId: `gh-${who.id}`,
      email: who.email,
      githubOrgs: ["acme"],
      githubTeams: ["acme/platform"],
    });
    expect(await answer({ kind: "github_org", value: "Acme" }, who.id)).toMatchObject({
      would_admit: true,
    });
    expect(await answer({ kind: "github_team", value: "acme/platform" }, who.id)).toMatchObject({
      would_admit: true,
    });
    expect(await answer({ kind: "github_org", value: "other" }, who.id)).toEqual({
      would_admit: false,
      reason: "no_match",
    });
  });

  test("no rule lets in a user an administrator decided on, or who is not active", async () => {
    const decided = await someone("decided.example");
    await send("PATCH", `/admin/users/${decided.id}`, adminCookie, { is_whitelisted: false });
    expect(await answer({ kind: "domain", value: "decided.example" }, decided.id)).toEqual({
      would_admit: false,
      reason: "administrator_decided",
    });
    const locked = await someone("locked.example");
    await send("PATCH", `/admin/users/${locked.id}`, adminCookie, { status: "locked" });
    expect(await answer({ kind: "domain", value: "locked.example" }, locked.id)).toEqual({
      would_admit: false,
      reason: "locked",
    });
  });

  test("bad input is a 4xx problem and stores no rule", async () => {
    const who = await someone("bad.example");
    const before = await pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM allowlist_rules`);
    for (const [rule, userId] of [
      [{ kind: "ip", value: "10.0.0.1" }, who.id],
      [{ kind: "domain", value: "%.example" }, who.id],
      [{ kind: "email", value: "%@%" }, who.id],
      [{ kind: "domain", value: "bad.example" }, "not-a-uuid"],
      [null, who.id],
    ] as const) {
      await expectProblem(await dryRun(rule, userId), 400, "validation_failed");
    }
    await expectProblem(
      await dryRun({ kind: "domain", value: "bad.example" }, crypto.randomUUID()),
      404,
      "user_not_found",
    );
    expect(await pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM allowlist_rules`)).toBe(before);
  });

  test("it changes nothing, so a stale administrator session may ask; non-administrators may not", async () => {
    const { cookie, user } = await signedInUser(pool, app.config, {
      role: "admin",
      isWhitelisted: true,
    });
    await pool.query(sql.unsafe`
      UPDATE sessions SET authenticated_at = now() - interval '1 day' WHERE user_id = ${user.id}`);
    const who = await someone("stale.example");
    const rule = { kind: "domain", value: "stale.example" };
    expect((await dryRun(rule, who.id, cookie)).status).toBe(200);
    const member = await signedInUser(pool, app.config, { isWhitelisted: true });
    await expectProblem(await dryRun(rule, who.id, member.cookie), 403);
  });
});

test("the new admin operations are in /openapi.json", async () => {
  const document = (await (await app.request("/openapi.json")).json()) as {
    paths: Record<string, Record<string, { operationId: string }>>;
  };
  expect(document.paths["/admin/users/{id}/access"]?.get?.operationId).toBe("explainUserAccess");
  expect(document.paths["/admin/allowlist/{id}/impact"]?.get?.operationId).toBe(
    "getAllowlistRuleImpact",
  );
  expect(document.paths["/admin/allowlist/dry-run"]?.post?.operationId).toBe("dryRunAllowlistRule");
});
