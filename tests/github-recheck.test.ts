import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { sql } from "slonik";
import { upsertAllowlistRule } from "../sql/allowlist-rules.ts";
import { findUserByEmail, type User } from "../sql/users.ts";
import { githubRecheckLockName, recheckGitHubMembers } from "../src/gate/github-recheck.ts";
import { lazyTokenCipher } from "../src/keys/token-encryption.ts";
import { startTestApp } from "./support/app.ts";
import { testKey } from "./support/cli.ts";
import { testLogger } from "./support/database.ts";
import { type FakeGitHubUser, gitHubUser } from "./support/fake-social-providers.ts";
import { routeHostsTo } from "./support/provider-routing.ts";
import { jsonSender } from "./support/requests.ts";
import { signedInUser } from "./support/sign-in.ts";
import { me, startSignInSite } from "./support/sign-in-site.ts";

// Users a GitHub organisation or team rule let in are asked about again with
// their stored token, against the same fake GitHub the sign-in tests use:
// membership ended or the token refused (401) → pending and signed out;
// GitHub not answering → nothing changes.

const env = { TOKEN_ENCRYPTION_KEYS: testKey("gr", 7), GITHUB_RECHECK_INTERVAL: "1h" };
const { pool, fake, app, signInWithGitHub, close } = await startSignInSite(env);
afterEach(() => fake.reset());
afterAll(close);

const deps = {
  pool,
  logger: testLogger,
  tokenCipher: lazyTokenCipher(app.config, testLogger),
  config: app.config,
};
const recheck = () => recheckGitHubMembers(deps);

let orgs = 0;
/** A fresh organisation with a rule letting its members in. */
async function orgRule(): Promise<{ org: string; id: string }> {
  const org = `org${++orgs}-${crypto.randomUUID().slice(0, 6)}`;
  const rule = await upsertAllowlistRule(pool, { kind: "github_org", value: org, createdBy: null });
  return { org, id: rule.id };
}

/** Signs `person` in with GitHub; the browser and the user, approved by a rule. */
async function member(person: FakeGitHubUser) {
  const browser = await signInWithGitHub(person);
  const user = (await findUserByEmail(pool, person.emails[0]?.email ?? "")) as User;
  expect(user.is_whitelisted).toBe(true);
  return { browser, user };
}

/** A member of a fresh rule's organisation who has since left it, due for the re-check. */
async function leaver(email: string) {
  const rule = await orgRule();
  const person = gitHubUser(email, { orgs: [rule.org] });
  const signedIn = await member(person);
  person.orgs = [];
  await makeDue(signedIn.user.id);
  return { rule, person, ...signedIn };
}

/** The interval has run out for this user: due at the next run. */
async function makeDue(userId: string) {
  await pool.query(sql.unsafe`
    UPDATE oauth_accounts SET memberships_checked_at = now() - interval '2 hours'
    WHERE user_id = ${userId}`);
}

async function approvalOf(userId: string) {
  return (await pool.one(sql.unsafe`
    SELECT is_whitelisted, approved_by_rule_id FROM users WHERE id = ${userId}`)) as {
    is_whitelisted: boolean;
    approved_by_rule_id: string | null;
  };
}

async function unapproved(userId: string) {
  return (await pool.any(sql.unsafe`
    SELECT actor_id, context FROM audit_events
    WHERE event_type = 'user.unapproved' AND user_id = ${userId}`)) as readonly {
    actor_id: string | null;
    context: Record<string, unknown>;
  }[];
}

const checkedAt = async (userId: string) =>
  new Date(
    String(
      await pool.oneFirst(sql.unsafe`
        SELECT memberships_checked_at FROM oauth_accounts WHERE user_id = ${userId}`),
    ),
  ).getTime();

describe("the GitHub re-check", () => {
  test("sign-in stores the memberships it read, so the user is not due before the interval", async () => {
    const { org } = await orgRule();
    const { user } = await member(gitHubUser("stored@gh.example", { orgs: [org] }));
    const account = (await pool.one(sql.unsafe`
      SELECT github_orgs, memberships_checked_at FROM oauth_accounts
      WHERE user_id = ${user.id}`)) as Record<string, unknown>;
    expect(account.github_orgs).toContain(org);
    expect(account.memberships_checked_at).not.toBeNull();
    fake.reset();
    await recheck();
    expect(fake.calls).not.toContain("GET api.github.com/user/orgs");
  });

  test("a user whose organisation membership ends is pending again and signed out", async () => {
    const { rule, browser, user } = await leaver("leaver@gh.example");
    expect(await recheck()).toMatchObject({ ran: true, unapproved: 1 });
    expect(await approvalOf(user.id)).toMatchObject({ is_whitelisted: false });
    expect((await me(browser)).status).toBe(401);
    const events = await unapproved(user.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      actor_id: null,
      context: {
        reason: "github_membership_ended",
        rule_id: rule.id,
        allowlist_rule: `github_org:${rule.org}`,
        revoked_sessions: 1,
      },
    });
  });

  test("a user whose token GitHub now refuses (401) is pending again and signed out", async () => {
    const { org } = await orgRule();
    const person = gitHubUser("revoker@gh.example", { orgs: [org] });
    const { browser, user } = await member(person);
    fake.revokeGitHubTokens(person);
    await makeDue(user.id);
    expect(await recheck()).toMatchObject({ unapproved: 1 });
    expect(await approvalOf(user.id)).toMatchObject({ is_whitelisted: false });
    expect((await me(browser)).status).toBe(401);
    expect((await unapproved(user.id))[0]?.context).toMatchObject({
      reason: "github_token_revoked",
    });
    const account = (await pool.one(sql.unsafe`
      SELECT revoked_at, github_orgs FROM oauth_accounts
      WHERE user_id = ${user.id}`)) as Record<string, unknown>;
    expect(account).toMatchObject({ github_orgs: null });
    expect(account.revoked_at).not.toBeNull();
  });

  test("a member who still belongs keeps access; the check is recorded", async () => {
    const { org } = await orgRule();
    const { browser, user } = await member(gitHubUser("stayer@gh.example", { orgs: [org] }));
    await makeDue(user.id);
    const before = await checkedAt(user.id);
    expect(await recheck()).toMatchObject({ unapproved: 0 });
    expect(fake.calls).toContain("GET api.github.com/user/orgs");
    expect(await approvalOf(user.id)).toMatchObject({ is_whitelisted: true });
    expect((await me(browser)).status).toBe(200);
    expect(await checkedAt(user.id)).toBeGreaterThan(before);
  });

  test("GitHub failing (5xx) changes nothing, and the user is asked about again at the next run", async () => {
    const { browser, user } = await leaver("outage@gh.example");
    const before = await checkedAt(user.id);
    for (const kind of ["500-json", "500-html", "garbage"] as const) {
      fake.breakNext("api.github.com/user/orgs", kind);
      expect(await recheck()).toMatchObject({ unapproved: 0, unanswered: 1 });
      expect(await approvalOf(user.id)).toMatchObject({ is_whitelisted: true });
    }
    expect((await me(browser)).status).toBe(200);
    expect(await checkedAt(user.id)).toEqual(before);
    // GitHub answers again: the membership that ended is now seen.
    expect(await recheck()).toMatchObject({ unapproved: 1 });
  });

  test("GitHub unreachable (a network error) changes nothing", async () => {
    const { browser, user } = await leaver("offline@gh.example");
    // Nothing listens on port 1: the connection is refused.
    const unroute = routeHostsTo("http://127.0.0.1:1", ["api.github.com"]);
    try {
      expect(await recheck()).toMatchObject({ unapproved: 0, unanswered: 1 });
    } finally {
      unroute();
    }
    expect(await approvalOf(user.id)).toMatchObject({ is_whitelisted: true });
    expect((await me(browser)).status).toBe(200);
    expect(await unapproved(user.id)).toHaveLength(0);
    // Reachable again: the membership that ended is now seen.
    expect(await recheck()).toMatchObject({ unapproved: 1 });
  });

  test("a user another rule still lets in keeps access, recorded under that rule", async () => {
    const first = await orgRule();
    const second = await orgRule();
    const person = gitHubUser("mover@gh.example", { orgs: [first.org, second.org] });
    const { user } = await member(person);
    expect((await approvalOf(user.id)).approved_by_rule_id).toBe(first.id);
    person.orgs = [second.org];
    await makeDue(user.id);
    expect(await recheck()).toMatchObject({ unapproved: 0 });
    expect(await approvalOf(user.id)).toMatchObject({
      is_whitelisted: true,
      approved_by_rule_id: second.id,
    });
  });

  test("a user an administrator approved by hand is never re-checked", async () => {
    const { org } = await orgRule();
    const person = gitHubUser("handpicked@gh.example", { orgs: [org] });
    const { browser, user } = await member(person);
    const { cookie } = await signedInUser(pool, app.config, { role: "admin", isWhitelisted: true });
    const send = jsonSender(app);
    const approve = await send("PATCH", `/admin/users/${user.id}`, cookie, {
      is_whitelisted: true,
    });
    expect(approve.status).toBe(200);
    person.orgs = [];
    fake.revokeGitHubTokens(person);
    await makeDue(user.id);
    fake.reset();
    await recheck();
    expect(fake.calls).toHaveLength(0);
    expect(await approvalOf(user.id)).toMatchObject({ is_whitelisted: true });
    expect((await me(browser)).status).toBe(200);
  });

  test("while another replica runs the re-check, this one skips", async () => {
    await pool.connect(async (held) => {
      await held.query(sql.unsafe`SELECT pg_advisory_lock(hashtext(${githubRecheckLockName}))`);
      try {
        expect(await recheck()).toEqual({ ran: false });
      } finally {
        await held.query(sql.unsafe`SELECT pg_advisory_unlock(hashtext(${githubRecheckLockName}))`);
      }
    });
  });

  test("the server runs the re-check every GITHUB_RECHECK_INTERVAL", async () => {
    const { org } = await orgRule();
    const person = gitHubUser("scheduled@gh.example", { orgs: [org] });
    const { user } = await member(person);
    person.orgs = [];
    const scheduled = await startTestApp(pool, { ...env, GITHUB_RECHECK_INTERVAL: "1s" });
    try {
      const deadline = Date.now() + 15_000;
      while ((await approvalOf(user.id)).is_whitelisted && Date.now() < deadline) {
        await Bun.sleep(200);
      }
      expect(await approvalOf(user.id)).toMatchObject({ is_whitelisted: false });
    } finally {
      await scheduled.close();
    }
  });

  test("stopping the server does not wait for a GitHub that never answers", async () => {
    const { user } = await leaver("hanging@gh.example");
    let asked = false;
    const hanging = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () => {
        asked = true;
        return new Promise<Response>(() => {});
      },
    });
    const unroute = routeHostsTo(`http://127.0.0.1:${hanging.port}`, ["api.github.com"]);
    const scheduled = await startTestApp(pool, { ...env, GITHUB_RECHECK_INTERVAL: "1s" });
    try {
      const deadline = Date.now() + 10_000;
      while (!asked && Date.now() < deadline) await Bun.sleep(50);
      expect(asked).toBe(true);
      const started = Date.now();
      await scheduled.close();
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(await approvalOf(user.id)).toMatchObject({ is_whitelisted: true });
    } finally {
      unroute();
      hanging.stop(true);
    }
    // Answered again: the user is settled so later tests start clean.
    expect(await recheck()).toMatchObject({ unapproved: 1 });
  });
});
