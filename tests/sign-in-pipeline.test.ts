import { afterAll, describe, expect, test } from "bun:test";
import { sql } from "slonik";
import { upsertAllowlistRule } from "../sql/allowlist-rules.ts";
import type { User } from "../sql/users.ts";
import type { DomainError } from "../src/errors.ts";
import { problemOf } from "../src/http/error-map.ts";
import { lazyTokenCipher } from "../src/keys/token-encryption.ts";
import { createMailer } from "../src/mail/mailer.ts";
import { postgresRateLimitStore } from "../src/rate-limits/rate-limit-stores.ts";
import { completeSignIn } from "../src/sign-in/complete.ts";
import { verifyPasswordLogin } from "../src/sign-in/password-login.ts";
import { createAccessTokens } from "../src/tokens/access-tokens.ts";
import { testLogger } from "./support/database.ts";
import { gitHubUser } from "./support/fake-social-providers.ts";
import { nextIp } from "./support/requests.ts";
import { approvedPasswordUser, knownPassword as password } from "./support/sign-in.ts";
import { startSignInSite } from "./support/sign-in-site.ts";

/** The status a refusal of completeSignIn is answered with over HTTP. */
const answeredStatus = (refusal: DomainError) => problemOf(refusal).status;

// Every way in ends in one completeSignIn (src/sign-in/complete.ts): these
// tests hold each way in to what that one place does.

const {
  pool,
  app,
  signInWithGitHub: gitHubSignIn,
  close,
} = await startSignInSite({ TRUST_PROXY_HOPS: "1" });
const deps = {
  config: app.config,
  pool,
  logger: testLogger,
  rateLimitStore: postgresRateLimitStore(pool),
  accessTokens: createAccessTokens(app.config, testLogger),
  tokenCipher: lazyTokenCipher(app.config, testLogger),
  mailer: createMailer(app.config, testLogger),
};
afterAll(close);

const request = () => ({ ip: nextIp(), userAgent: "pipeline-test" });

/** Someone not yet approved, with a confirmed address and knownPassword. */
const passwordUser = () => approvedPasswordUser(pool, app.config, { isWhitelisted: false });

const passwordFactor = (user: User) =>
  verifyPasswordLogin(deps, { email: user.email ?? "", password, ...request() });

type Event = { event_type: string; context: Record<string, unknown> | null };
const eventsOf = async (userId: string) =>
  (await pool.any(sql.unsafe`
    SELECT event_type, context FROM audit_events WHERE user_id = ${userId}
    ORDER BY occurred_at, id`)) as readonly Event[];
const liveSessions = async (userId: string) =>
  pool.oneFirst(sql.unsafe`
    SELECT count(*)::int FROM sessions WHERE user_id = ${userId} AND revoked_at IS NULL`);

async function loginsCounted(method: string): Promise<number> {
  const text = await (await app.request("/metrics")).text();
  const line = text
    .split("\n")
    .find((l) => l.startsWith(`gatehouse_logins_total{method="${method}",result="success"}`));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

/** One completed sign-in: one session, one login.succeeded naming it, counted once. */
async function expectOneCompletion(userId: string, method: string, before: number) {
  const succeeded = (await eventsOf(userId)).filter((e) => e.event_type === "login.succeeded");
  expect(succeeded).toHaveLength(1);
  expect(succeeded[0]?.context).toMatchObject({ method });
  const sessionId = succeeded[0]?.context?.session_id as string;
  const session = await pool.maybeOneFirst(sql.unsafe`
    SELECT user_id FROM sessions WHERE id = ${sessionId} AND revoked_at IS NULL`);
  expect(session).toBe(userId);
  expect(await loginsCounted(method)).toBe(before + 1);
}

describe("every way in completes in one place", () => {
  const passwordWays = {
    "the JSON login": {
      method: "password",
      status: 200,
      send: (email: string) =>
        app.request("/auth/login", {
          method: "POST",
          headers: { "content-type": "application/json", "x-forwarded-for": nextIp() },
          body: JSON.stringify({ email, password }),
        }),
    },
    "the sign-in form": {
      method: "password",
      status: 303,
      send: (email: string) =>
        app.request("/auth/login", {
          method: "POST",
          headers: {
            "content-type": "application/x-www-form-urlencoded",
            "x-forwarded-for": nextIp(),
            "sec-fetch-site": "same-origin",
          },
          body: new URLSearchParams({ email, password }),
          redirect: "manual",
        }),
    },
    "the token password grant": {
      method: "token",
      status: 200,
      send: (email: string) =>
        app.request("/auth/token", {
          method: "POST",
          headers: {
            "content-type": "application/x-www-form-urlencoded",
            "x-forwarded-for": nextIp(),
          },
          body: new URLSearchParams({ grant_type: "password", username: email, password }),
        }),
    },
  };
  for (const [way, { method, status, send }] of Object.entries(passwordWays)) {
    test(`${way} completes once: one session, one login.succeeded, one count`, async () => {
      const user = await passwordUser();
      const before = await loginsCounted(method);
      expect((await send(user.email ?? "")).status).toBe(status);
      await expectOneCompletion(user.id, method, before);
    });
  }

  test("the token grant's login.succeeded names the session its tokens belong to", async () => {
    const user = await passwordUser();
    expect((await passwordWays["the token password grant"].send(user.email ?? "")).status).toBe(
      200,
    );
    const events = await eventsOf(user.id);
    const issued = events.find((e) => e.event_type === "token.issued");
    const succeeded = events.find((e) => e.event_type === "login.succeeded");
    expect(issued?.context?.session_id).toBe(succeeded?.context?.session_id);
  });

  test("a provider callback completes once, through the same place", async () => {
    const before = await loginsCounted("github");
    await gitHubSignIn(gitHubUser("pipeliner@example.com"));
    const userId = await pool.oneFirst(sql.unsafe`
      SELECT id FROM users WHERE email = 'pipeliner@example.com'`);
    await expectOneCompletion(userId as string, "github", before);
  });
});

describe("completeSignIn", () => {
  test("an account deactivated after its first factor gets no session, and the failure is recorded", async () => {
    const user = await passwordUser();
    const factor = await passwordFactor(user);
    await pool.query(sql.unsafe`UPDATE users SET status = 'inactive' WHERE id = ${user.id}`);
    const refused = await completeSignIn(
      deps,
      factor,
      { kind: "browser", replaces: null },
      request(),
    ).then(() => null, answeredStatus);
    expect(refused).toBe(403);
    expect(await liveSessions(user.id)).toBe(0);
    expect((await eventsOf(user.id)).map((e) => e.event_type)).toEqual(["login.failed"]);
  });

  test("an account locked by failures committed after its first factor gets no token", async () => {
    const user = await passwordUser();
    const factor = await passwordFactor(user);
    await pool.query(sql.unsafe`
      UPDATE users SET locked_until = now() + interval '1 minute' WHERE id = ${user.id}`);
    const refused = await completeSignIn(deps, factor, { kind: "token" }, request()).then(
      () => null,
      answeredStatus,
    );
    expect(refused).toBe(423);
    expect(await liveSessions(user.id)).toBe(0);
    const refreshTokens = await pool.oneFirst(sql.unsafe`
      SELECT count(*)::int FROM refresh_tokens WHERE user_id = ${user.id}`);
    expect(refreshTokens).toBe(0);
  });

  test("a password's failures are cleared only when the sign-in completes", async () => {
    const user = await passwordUser();
    await pool.query(sql.unsafe`UPDATE users SET failed_login_attempts = 3 WHERE id = ${user.id}`);
    const factor = await passwordFactor(user);
    const failures = () =>
      pool.oneFirst(sql.unsafe`SELECT failed_login_attempts FROM users WHERE id = ${user.id}`);
    expect(await failures()).toBe(3);
    await completeSignIn(deps, factor, { kind: "browser", replaces: null }, request());
    expect(await failures()).toBe(0);
  });

  test("a browser's sign-in replaces the session it came with", async () => {
    const user = await passwordUser();
    const first = await completeSignIn(
      deps,
      await verifyPasswordLogin(deps, { email: user.email ?? "", password, ...request() }),
      { kind: "browser", replaces: null },
      request(),
    );
    if (first.kind !== "session") throw new Error("a user without a second factor signs in");
    await completeSignIn(
      deps,
      await verifyPasswordLogin(deps, { email: user.email ?? "", password, ...request() }),
      { kind: "browser", replaces: first.sessionId },
      request(),
    );
    const revoked = await pool.oneFirst(sql.unsafe`
      SELECT revoked_at IS NOT NULL FROM sessions WHERE id = ${first.sessionId}`);
    expect(revoked).toBe(true);
    expect(await liveSessions(user.id)).toBe(1);
  });

  test("a rule added after a provider user's first sign-in approves them at the next, audited", async () => {
    const person = gitHubUser("later@approved.example");
    const signIn = () => gitHubSignIn(person);
    await signIn();
    const approved = () =>
      pool.oneFirst(sql.unsafe`
        SELECT is_whitelisted FROM users WHERE email = 'later@approved.example'`);
    expect(await approved()).toBe(false);
    await upsertAllowlistRule(pool, { kind: "domain", value: "approved.example", createdBy: null });
    await signIn();
    expect(await approved()).toBe(true);
    const userId = (await pool.oneFirst(sql.unsafe`
      SELECT id FROM users WHERE email = 'later@approved.example'`)) as string;
    const auto = (await eventsOf(userId)).find((e) => e.event_type === "account.auto_approved");
    expect(auto?.context).toMatchObject({
      via: "github_login",
      allowlist_rule: "domain:approved.example",
    });
  });
});
