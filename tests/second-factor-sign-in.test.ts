import { afterAll, describe, expect, test } from "bun:test";
import { sql } from "slonik";
import type { User } from "../sql/users.ts";
import { startTestApp } from "./support/app.ts";
import { TestBrowser } from "./support/browser.ts";
import { cleanupNow } from "./support/cleanup.ts";
import { testKey } from "./support/cli.ts";
import { createTestDatabase } from "./support/database.ts";
import {
  fakeClient,
  gitHubUser,
  startFakeSocialProviders,
} from "./support/fake-social-providers.ts";
import { routeHostsTo, socialProviderHosts } from "./support/provider-routing.ts";
import { cookieHeader, cookiesSet, nextIp, postForm } from "./support/requests.ts";
import {
  approvedPasswordUser,
  expectSecretOpensNothing,
  mfaGrant,
  knownPassword as password,
} from "./support/sign-in.ts";
import { startTestSmtpServer } from "./support/smtp.ts";
import { nextCode, stepNow, totpCode } from "./support/totp.ts";

// An attacker with a victim's password (or their provider account) and no
// second factor: every way in must stop at the second factor, and nothing it
// hands out may open /me, /auth/verify or /auth/token until the factor is
// given. Codes are computed here from the enrolled secret, as an
// authenticator app would.

const { pool, drop } = await createTestDatabase();
const fake = await startFakeSocialProviders();
const smtp = await startTestSmtpServer();
const unroute = routeHostsTo(fake.origin, socialProviderHosts);
const publicHost = "auth.example.test";
const base = `https://${publicHost}`;
const app = await startTestApp(pool, {
  PUBLIC_URL: base,
  TRUST_PROXY_HOPS: "1",
  TOKEN_ENCRYPTION_KEYS: testKey("k1", 1),
  GITHUB_CLIENT_ID: fakeClient.id,
  GITHUB_CLIENT_SECRET: fakeClient.secret,
  SMTP_URL: smtp.url,
});
afterAll(async () => {
  unroute();
  await app.close();
  fake.close();
  await smtp.close();
  await drop();
});

const sessionCookie = "__Host-gatehouse_session";
const pendingCookie = "__Secure-gatehouse_mfa_pending";

const passwordUser = () => approvedPasswordUser(pool, app.config, { isWhitelisted: false });

function postJson(path: string, body: unknown, cookie = ""): Promise<Response> {
  return app.request(path, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-forwarded-for": nextIp(),
      ...(cookie ? { cookie } : {}),
    },
    body: JSON.stringify(body),
  });
}
const postFormFrom = (path: string, fields: Record<string, string>, cookie = "") =>
  postForm(app, path, fields, { "x-forwarded-for": nextIp(), ...(cookie ? { cookie } : {}) });
const tokenRequest = (fields: Record<string, string>) =>
  app.request("/auth/token", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "x-forwarded-for": nextIp() },
    body: new URLSearchParams(fields),
  });

/** Turns TOTP on for a signed-in user (through /me/mfa, as the user would). */
async function enrol(cookie: string) {
  const started = await postJson("/me/mfa/totp", undefined, cookie);
  expect(started.status).toBe(200);
  const { secret } = (await started.json()) as { secret: string };
  const confirmed = await postJson(
    "/me/mfa/totp/confirm",
    { code: totpCode(secret, stepNow()) },
    cookie,
  );
  expect(confirmed.status).toBe(200);
  return {
    secret,
    recoveryCodes: ((await confirmed.json()) as { recovery_codes: string[] }).recovery_codes,
  };
}

async function signOut(cookie: string) {
  const response = await app.request("/auth/logout", {
    method: "POST",
    headers: { cookie, "sec-fetch-site": "same-origin" },
  });
  expect(response.status).toBe(204);
}

/** A password user with TOTP on, enrolled from a first session that is then signed out. */
async function userWithTotp() {
  const user = await passwordUser();
  const login = await postJson("/auth/login", { email: user.email, password });
  expect(login.status).toBe(200);
  const cookie = cookieHeader(cookiesSet(login));
  const enrolled = await enrol(cookie);
  await signOut(cookie);
  return { user, ...enrolled };
}

const wrongCode = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, "0");

const liveSessions = (userId: string) =>
  pool.oneFirst(sql.unsafe`
    SELECT count(*)::int FROM sessions WHERE user_id = ${userId} AND revoked_at IS NULL`);
const refreshTokens = (userId: string) =>
  pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM refresh_tokens WHERE user_id = ${userId}`);
const failures = (userId: string) =>
  pool.oneFirst(sql.unsafe`SELECT failed_login_attempts FROM users WHERE id = ${userId}`);
const events = async (userId: string) =>
  (await pool.any(sql.unsafe`
    SELECT event_type, context FROM audit_events WHERE user_id = ${userId}
    ORDER BY occurred_at, id`)) as readonly {
    event_type: string;
    context: Record<string, unknown>;
  }[];

/**
 * Nothing the first factor handed out opens anything: not as a cookie, not
 * as a session cookie, not as a bearer token, not as a refresh token; and
 * the user has no session and no refresh token.
 */
/**
 * A form sign-in that owes its second factor: a 303 to the second-factor page
 * (for /me), only the pending cookie, and nothing it holds opens anything.
 * Returns the Cookie header to finish with.
 */
async function expectSentToSecondFactor(userId: string, response: Response): Promise<string> {
  expect(response.status).toBe(303);
  expect(response.headers.get("location")).toBe("/auth/mfa?redirect_to=%2Fme");
  const set = cookiesSet(response);
  expect(Object.keys(set)).toEqual([pendingCookie]);
  await expectNothingOpens(userId, cookieHeader(set), [set[pendingCookie] ?? ""]);
  return cookieHeader(set);
}

async function expectNothingOpens(userId: string, cookies: string, secrets: string[]) {
  const asCookie = { cookie: cookies, "sec-fetch-site": "same-origin" };
  expect((await app.request("/me", { headers: asCookie })).status).toBe(401);
  expect((await app.request("/auth/verify", { headers: asCookie })).status).toBe(401);
  expect(
    (await app.request("/auth/token/session", { method: "POST", headers: asCookie })).status,
  ).toBe(401);
  for (const secret of secrets) await expectSecretOpensNothing(app, secret);
  expect(await liveSessions(userId)).toBe(0);
  expect(await refreshTokens(userId)).toBe(0);
}

describe("no way around the second factor", () => {
  test("the JSON login answers mfa_required and a cookie that opens nothing; /auth/mfa finishes it", async () => {
    const { user, secret } = await userWithTotp();
    await pool.query(sql.unsafe`UPDATE users SET failed_login_attempts = 2 WHERE id = ${user.id}`);
    const login = await postJson("/auth/login", { email: user.email, password });
    expect(login.status).toBe(200);
    expect(await login.json()).toEqual({ mfa_required: true, methods: ["totp", "recovery_code"] });
    const set = cookiesSet(login);
    expect(Object.keys(set)).toEqual([pendingCookie]);
    const header = login.headers.getSetCookie().find((h) => h.startsWith(pendingCookie)) ?? "";
    expect(header).toMatch(/Path=\/auth\/mfa/i);
    expect(header).toMatch(/HttpOnly/i);
    expect(header).toMatch(/SameSite=Strict/i);
    expect(Number(/Max-Age=(\d+)/i.exec(header)?.[1])).toBeLessThanOrEqual(300);
    await expectNothingOpens(user.id, cookieHeader(set), [set[pendingCookie] ?? ""]);
    // A pending sign-in clears no failures: that happens once the sign-in is complete.
    expect(await failures(user.id)).toBe(2);

    const finished = await postJson(
      "/auth/mfa",
      { code: await nextCode(pool, user.id, secret) },
      cookieHeader(set),
    );
    expect(finished.status).toBe(200);
    expect(((await finished.json()) as { user: { id: string } }).user.id).toBe(user.id);
    const session = cookiesSet(finished);
    expect(session[sessionCookie]).toBeString();
    expect(session[pendingCookie]).toBeUndefined();
    const me = await app.request("/me", { headers: { cookie: cookieHeader(session) } });
    expect(me.status).toBe(200);
    expect(await failures(user.id)).toBe(0);
    const succeeded = (await events(user.id)).filter((e) => e.event_type === "login.succeeded");
    expect(succeeded.at(-1)?.context).toMatchObject({ method: "password", amr: ["pwd", "otp"] });
  });

  test("the sign-in form goes to the second-factor page, which finishes the sign-in", async () => {
    const { user, secret } = await userWithTotp();
    const login = await postFormFrom("/auth/login", {
      email: user.email ?? "",
      password,
      redirect_to: "/me",
    });
    const pending = await expectSentToSecondFactor(user.id, login);

    const page = await app.request("/auth/mfa?redirect_to=%2Fme");
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('action="/auth/mfa"');
    expect(html).toContain('name="code"');
    expect(html).toContain('name="recovery_code"');

    const wrong = await postFormFrom("/auth/mfa", { code: "12345", redirect_to: "/me" }, pending);
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("content-type")).toContain("text/html");
    const finished = await postFormFrom(
      "/auth/mfa",
      { code: await nextCode(pool, user.id, secret), redirect_to: "/me" },
      pending,
    );
    expect(finished.status).toBe(303);
    expect(finished.headers.get("location")).toBe("/me");
    const me = await app.request("/me", {
      headers: { cookie: cookieHeader(cookiesSet(finished)) },
    });
    expect(me.status).toBe(200);
  });

  test("the token password grant answers 403 mfa_required; the mfa grant finishes it with a code", async () => {
    const { user, secret } = await userWithTotp();
    const grant = await tokenRequest({
      grant_type: "password",
      username: user.email ?? "",
      password,
    });
    expect(grant.status).toBe(403);
    const body = (await grant.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      error: "mfa_required",
      code: "mfa_required",
      methods: ["totp", "recovery_code"],
    });
    expect(body).not.toHaveProperty("access_token");
    expect(body).not.toHaveProperty("refresh_token");
    const mfaToken = body.mfa_token as string;
    expect(mfaToken).toBeString();
    await expectNothingOpens(user.id, "", [mfaToken]);
    // A token client's pending sign-in is not a browser's.
    const asBrowser = await postJson(
      "/auth/mfa",
      { code: await nextCode(pool, user.id, secret) },
      `${pendingCookie}=${mfaToken}`,
    );
    expect(asBrowser.status).toBe(401);

    const missing = await tokenRequest({ grant_type: mfaGrant, mfa_token: mfaToken });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ error: "invalid_request" });
    const finished = await tokenRequest({
      grant_type: mfaGrant,
      mfa_token: mfaToken,
      otp: await nextCode(pool, user.id, secret),
    });
    expect(finished.status).toBe(200);
    const pair = (await finished.json()) as { access_token: string; refresh_token: string };
    const me = await app.request("/me", {
      headers: { authorization: `Bearer ${pair.access_token}` },
    });
    expect(me.status).toBe(200);
    const refreshed = await tokenRequest({
      grant_type: "refresh_token",
      refresh_token: pair.refresh_token,
    });
    expect(refreshed.status).toBe(200);
    // Used once: the same mfa_token again buys nothing.
    const again = await tokenRequest({
      grant_type: mfaGrant,
      mfa_token: mfaToken,
      otp: await nextCode(pool, user.id, secret),
    });
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ error: "invalid_grant" });
  });

  test("an email code stops at the second factor too, as JSON and as a form", async () => {
    const { user, secret } = await userWithTotp();
    const email = user.email ?? "";
    const mailedCode = async () => {
      const before = smtp.received.length;
      expect((await postJson("/auth/email-code", { email })).status).toBe(202);
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline) {
        const mail = smtp.received.slice(before).find((m) => m.to.includes(email));
        const code = mail && /^([0-9]{6}) /.exec(mail.subject)?.[1];
        if (code) return code;
        await Bun.sleep(20);
      }
      throw new Error("no code mailed");
    };

    const signIn = await postJson("/auth/email-code/verify", { email, code: await mailedCode() });
    expect(signIn.status).toBe(200);
    expect(await signIn.json()).toEqual({ mfa_required: true, methods: ["totp", "recovery_code"] });
    const set = cookiesSet(signIn);
    expect(Object.keys(set)).toEqual([pendingCookie]);
    await expectNothingOpens(user.id, cookieHeader(set), [set[pendingCookie] ?? ""]);

    const form = await postFormFrom("/auth/email-code/verify", {
      email,
      code: await mailedCode(),
      redirect_to: "/me",
    });
    const formPending = await expectSentToSecondFactor(user.id, form);

    const finished = await postJson(
      "/auth/mfa",
      { code: await nextCode(pool, user.id, secret) },
      formPending,
    );
    expect(finished.status).toBe(200);
    const me = await app.request("/me", {
      headers: { cookie: cookieHeader(cookiesSet(finished)) },
    });
    expect(((await me.json()) as { amr: string[] }).amr).toEqual(["email", "otp"]);
    const succeeded = (await events(user.id)).filter((e) => e.event_type === "login.succeeded");
    expect(succeeded.at(-1)?.context).toMatchObject({
      method: "email_code",
      amr: ["email", "otp"],
    });
  });

  test("a provider sign-in stops at the second factor too", async () => {
    const person = gitHubUser("two-factor@example.com");
    const signIn = async (browser: TestBrowser) => {
      fake.signInToGitHub(person);
      return browser.follow(`${base}/auth/github/login`, {
        stopAt: (url) =>
          !(url.host === publicHost && url.pathname.startsWith("/auth/")) &&
          !(socialProviderHosts as readonly string[]).includes(url.host),
      });
    };
    const first = new TestBrowser({ [publicHost]: app.url });
    await signIn(first);
    const firstSession = first.cookie(publicHost, sessionCookie) ?? "";
    expect(firstSession).not.toBe("");
    const { secret } = await enrol(`${sessionCookie}=${firstSession}`);
    const userId = (await pool.oneFirst(sql.unsafe`
      SELECT id FROM users WHERE email = 'two-factor@example.com'`)) as string;
    await signOut(`${sessionCookie}=${firstSession}`);

    const attacker = new TestBrowser({ [publicHost]: app.url });
    const { url, response } = await signIn(attacker);
    expect(new URL(url).pathname).toBe("/auth/mfa");
    expect(response.status).toBe(200);
    expect(attacker.cookie(publicHost, sessionCookie)).toBeUndefined();
    const pending = attacker.cookie(publicHost, pendingCookie) ?? "";
    expect(pending).not.toBe("");
    await expectNothingOpens(userId, attacker.cookieHeader(publicHost), [pending]);

    const finished = await attacker.request(`${base}/auth/mfa`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-for": nextIp() },
      body: JSON.stringify({ code: await nextCode(pool, userId, secret) }),
    });
    expect(finished.status).toBe(200);
    expect((await attacker.request(`${base}/me`)).status).toBe(200);
    const succeeded = (await events(userId)).filter((e) => e.event_type === "login.succeeded");
    expect(succeeded.at(-1)?.context).toMatchObject({ method: "github", amr: ["fed", "otp"] });
  });
});

describe("the pending sign-in", () => {
  const loginPending = async (user: User) => {
    const login = await postJson("/auth/login", { email: user.email, password });
    expect(await login.json()).toMatchObject({ mfa_required: true });
    return cookieHeader(cookiesSet(login));
  };

  test("is single use, and dies when it expires", async () => {
    const { user, secret } = await userWithTotp();
    const cookie = await loginPending(user);
    const once = await postJson(
      "/auth/mfa",
      { code: await nextCode(pool, user.id, secret) },
      cookie,
    );
    expect(once.status).toBe(200);
    const twice = await postJson(
      "/auth/mfa",
      { code: await nextCode(pool, user.id, secret) },
      cookie,
    );
    expect(twice.status).toBe(401);
    expect(await twice.json()).toMatchObject({ code: "mfa_sign_in_expired" });
    expect(await liveSessions(user.id)).toBe(1);

    const later = await loginPending(user);
    await pool.query(sql.unsafe`
      UPDATE pending_sign_ins SET created_at = now() - interval '6 minutes',
        expires_at = now() - interval '1 minute'
      WHERE user_id = ${user.id} AND used_at IS NULL`);
    const expired = await postJson(
      "/auth/mfa",
      { code: await nextCode(pool, user.id, secret) },
      later,
    );
    expect(expired.status).toBe(401);
    expect(await liveSessions(user.id)).toBe(1);
  });

  test("cleanup removes pending sign-ins past their expiry and the grace period, not live ones", async () => {
    const { user } = await userWithTotp();
    await loginPending(user);
    await loginPending(user);
    await pool.query(sql.unsafe`
      UPDATE pending_sign_ins SET created_at = now() - interval '3 days',
        expires_at = now() - interval '2 days'
      WHERE id = (SELECT id FROM pending_sign_ins WHERE user_id = ${user.id} LIMIT 1)`);
    const report = await cleanupNow(pool, { auditRetentionDays: 3650 });
    expect(report.ran && report.removed.pending_sign_ins).toBe(1);
    const left = await pool.oneFirst(sql.unsafe`
      SELECT count(*)::int FROM pending_sign_ins WHERE user_id = ${user.id}`);
    expect(left).toBe(1);
  });

  test("of user A never finishes with user B's factors", async () => {
    const a = await userWithTotp();
    const b = await userWithTotp();
    const cookie = await loginPending(a.user);
    const withCode = await postJson(
      "/auth/mfa",
      { code: await nextCode(pool, b.user.id, b.secret) },
      cookie,
    );
    expect(withCode.status).toBe(401);
    const withRecovery = await postJson("/auth/mfa", { recovery_code: b.recoveryCodes[0] }, cookie);
    expect(withRecovery.status).toBe(401);
    expect(await liveSessions(a.user.id)).toBe(0);
    expect(await liveSessions(b.user.id)).toBe(0);
    const bCodesLeft = await pool.oneFirst(sql.unsafe`
      SELECT count(*)::int FROM mfa_recovery_codes WHERE user_id = ${b.user.id} AND used_at IS NULL`);
    expect(bCodesLeft).toBe(10);
    // A's own factor still finishes A's sign-in, as A.
    const own = await postJson(
      "/auth/mfa",
      { code: await nextCode(pool, a.user.id, a.secret) },
      cookie,
    );
    expect(own.status).toBe(200);
    expect(((await own.json()) as { user: { id: string } }).user.id).toBe(a.user.id);
  });

  test("a used code cannot be replayed; a recovery code works once", async () => {
    const { user, secret, recoveryCodes } = await userWithTotp();
    const code = await nextCode(pool, user.id, secret);
    expect((await postJson("/auth/mfa", { code }, await loginPending(user))).status).toBe(200);
    const replay = await postJson("/auth/mfa", { code }, await loginPending(user));
    expect(replay.status).toBe(401);
    expect(await replay.json()).toMatchObject({ code: "mfa_code_invalid" });

    const recovery = recoveryCodes[3] ?? "";
    const used = await postJson(
      "/auth/mfa",
      { recovery_code: recovery.toUpperCase() },
      await loginPending(user),
    );
    expect(used.status).toBe(200);
    const reused = await postJson(
      "/auth/mfa",
      { recovery_code: recovery },
      await loginPending(user),
    );
    expect(reused.status).toBe(401);
    const kinds = (await events(user.id)).map((e) => e.event_type);
    expect(kinds.filter((k) => k === "mfa.recovery_code_used")).toHaveLength(1);
    expect(kinds.filter((k) => k === "mfa.challenge_failed")).toHaveLength(2);
    const succeeded = (await events(user.id)).filter((e) => e.event_type === "login.succeeded");
    expect(succeeded.at(-1)?.context).toMatchObject({ amr: ["pwd", "recovery_code"] });
  });

  test("a used recovery code is mailed to its owner, with how many are left", async () => {
    const { user, recoveryCodes } = await userWithTotp();
    const used = await postJson(
      "/auth/mfa",
      { recovery_code: recoveryCodes[0] },
      await loginPending(user),
    );
    expect(used.status).toBe(200);
    const mail = await smtp.waitForMail(user.email ?? "", /recovery code was used/);
    expect(mail.source).toContain("You have 9 recovery codes left.");
    expect(mail.source).toContain(`Sign in at ${base}/`);
    expect(mail.source).not.toContain(recoveryCodes[0] ?? "");
    // A wrong one mails nothing.
    const wrong = await postJson(
      "/auth/mfa",
      { recovery_code: "aaaa-aaaa-aaaa-aaaa" },
      await loginPending(user),
    );
    expect(wrong.status).toBe(401);
    await Bun.sleep(200);
    expect(smtp.received.filter((m) => m.to.includes(user.email ?? ""))).toHaveLength(1);
  });

  test("turning TOTP off with a recovery code mails the owner too", async () => {
    const { user, recoveryCodes } = await userWithTotp();
    const signedIn = await postJson(
      "/auth/mfa",
      { recovery_code: recoveryCodes[1] },
      await loginPending(user),
    );
    const cookie = cookieHeader(cookiesSet(signedIn));
    await smtp.waitForMail(user.email ?? "", /recovery code was used/);
    const removed = await app.request("/me/mfa/totp", {
      method: "DELETE",
      headers: { cookie, "content-type": "application/json", "x-forwarded-for": nextIp() },
      body: JSON.stringify({ recovery_code: recoveryCodes[2] }),
    });
    expect(removed.status).toBe(204);
    const deadline = Date.now() + 5000;
    const notices = () =>
      smtp.received.filter(
        (m) => m.to.includes(user.email ?? "") && /recovery code was used/.test(m.subject),
      );
    while (notices().length < 2 && Date.now() < deadline) await Bun.sleep(20);
    expect(notices()).toHaveLength(2);
    expect(notices()[1]?.source).toContain("You have no recovery codes left.");
  });

  test("two concurrent sign-ins with one recovery code, or one TOTP code: exactly one finishes", async () => {
    const { user, secret, recoveryCodes } = await userWithTotp();
    const race = async (body: Record<string, string>) => {
      const cookies = [await loginPending(user), await loginPending(user)];
      const answers = await Promise.all(
        cookies.map((cookie) => postJson("/auth/mfa", body, cookie)),
      );
      return answers.map((r) => r.status).sort();
    };
    expect(await race({ recovery_code: recoveryCodes[0] ?? "" })).toEqual([200, 401]);
    expect(await race({ code: await nextCode(pool, user.id, secret) })).toEqual([200, 401]);
    expect(await liveSessions(user.id)).toBe(2);
  });

  test("wrong second factors count toward the lockout; a locked account's right code buys nothing", async () => {
    const { user, secret } = await userWithTotp();
    const cookie = await loginPending(user);
    const right = await nextCode(pool, user.id, secret);
    for (let i = 0; i < app.config.limits.LOGIN_MAX_FAILURES; i++) {
      const wrong = await postJson("/auth/mfa", { code: wrongCode(right) }, cookie);
      expect(wrong.status).toBe(401);
    }
    const locked = await pool.oneFirst(sql.unsafe`
      SELECT locked_until > now() FROM users WHERE id = ${user.id}`);
    expect(locked).toBe(true);
    const kinds = (await events(user.id)).map((e) => e.event_type);
    expect(kinds).toContain("account.locked");
    expect(kinds.filter((k) => k === "mfa.challenge_failed")).toHaveLength(
      app.config.limits.LOGIN_MAX_FAILURES,
    );
    const metrics = await (await app.request("/metrics")).text();
    expect(metrics).toMatch(
      /gatehouse_mfa_challenges_total\{method="totp",result="failure"\} [1-9]/,
    );
    expect(metrics).toMatch(
      /gatehouse_logins_total\{method="password",result="mfa_required"\} [1-9]/,
    );
    const refused = await postJson("/auth/mfa", { code: right }, cookie);
    expect(refused.status).toBe(423);
    expect(await liveSessions(user.id)).toBe(0);
    // Nor does the token door open while locked.
    const grant = await tokenRequest({
      grant_type: "password",
      username: user.email ?? "",
      password,
    });
    expect(grant.status).toBe(400);
  });

  test("bad input on POST /auth/mfa and the mfa grant is a 4xx and writes nothing", async () => {
    const { user } = await userWithTotp();
    const cookie = await loginPending(user);
    const before = {
      failures: await failures(user.id),
      events: (await events(user.id)).length,
      pending: await pool.oneFirst(sql.unsafe`
        SELECT count(*)::int FROM pending_sign_ins WHERE user_id = ${user.id} AND used_at IS NULL`),
    };
    const bodies: [string, string][] = [
      ["application/json", "{not json"],
      ["application/json", "[]"],
      ["application/json", "{}"],
      ["application/json", JSON.stringify({ code: 123456 })],
      ["application/json", JSON.stringify({ code: "1".repeat(100) })],
      ["application/json", JSON.stringify({ code: "12\u00003456" })],
      ["application/json", JSON.stringify({ recovery_code: "\ud800" })],
      ["application/json", JSON.stringify({ code: "123456", recovery_code: "abcd" })],
      ["text/plain", "code=123456"],
    ];
    for (const [type, body] of bodies) {
      const response = await app.request("/auth/mfa", {
        method: "POST",
        headers: { cookie, "content-type": type, "x-forwarded-for": nextIp() },
        body,
      });
      expect(`${body} ${response.status >= 400 && response.status < 500}`).toBe(`${body} true`);
      expect(response.headers.get("content-type")).toContain("application/problem+json");
    }
    const grants: Record<string, string>[] = [
      { grant_type: mfaGrant },
      { grant_type: mfaGrant, mfa_token: "x", otp: "123456", recovery_code: "abcd" },
      { grant_type: mfaGrant, mfa_token: "x".repeat(300), otp: "123456" },
      { grant_type: mfaGrant, mfa_token: "x\u0000", otp: "123456" },
    ];
    for (const fields of grants) {
      const response = await tokenRequest(fields);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: "invalid_request" });
    }
    expect(await failures(user.id)).toBe(before.failures);
    expect((await events(user.id)).length).toBe(before.events);
    expect(
      await pool.oneFirst(sql.unsafe`
        SELECT count(*)::int FROM pending_sign_ins WHERE user_id = ${user.id} AND used_at IS NULL`),
    ).toBe(before.pending);
    expect(await liveSessions(user.id)).toBe(0);
  });
});

describe("the strength of a sign-in, downstream", () => {
  const verify = (headers: Record<string, string>, query = "") =>
    app.request(`/auth/verify?mode=401${query}`, { headers });
  const claimsOf = (jwt: string) =>
    JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString()) as {
      amr?: string[];
    };
  const approve = (userId: string) =>
    pool.query(sql.unsafe`UPDATE users SET is_whitelisted = true WHERE id = ${userId}`);

  test("a password-only session says X-Auth-MFA: false, and ?mfa=1 refuses it", async () => {
    const user = await passwordUser();
    await approve(user.id);
    const login = await postJson("/auth/login", { email: user.email, password });
    const cookie = cookieHeader(cookiesSet(login));
    const allowed = await verify({ cookie });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get("x-auth-mfa")).toBe("false");
    const demanding = await verify({ cookie }, "&mfa=1");
    expect(demanding.status).toBe(403);
    expect(demanding.headers.get("x-auth-reason")).toBe("requirement_not_met");
    const me = await app.request("/me", { headers: { cookie } });
    expect(((await me.json()) as { amr: string[] }).amr).toEqual(["pwd"]);
  });

  test("a session finished with a TOTP code says X-Auth-MFA: true and passes ?mfa=1", async () => {
    const { user, secret } = await userWithTotp();
    await approve(user.id);
    const login = await postJson("/auth/login", { email: user.email, password });
    const finished = await postJson(
      "/auth/mfa",
      { code: await nextCode(pool, user.id, secret) },
      cookieHeader(cookiesSet(login)),
    );
    const cookie = cookieHeader(cookiesSet(finished));
    const demanding = await verify({ cookie }, "&mfa=1");
    expect(demanding.status).toBe(200);
    expect(demanding.headers.get("x-auth-mfa")).toBe("true");
    const me = await app.request("/me", { headers: { cookie } });
    expect(((await me.json()) as { amr: string[] }).amr).toEqual(["pwd", "otp"]);
  });

  test("tokens from the mfa grant carry amr, forward-auth trusts them as two factors, refresh keeps it", async () => {
    const { user, secret } = await userWithTotp();
    await approve(user.id);
    const first = await tokenRequest({
      grant_type: "password",
      username: user.email ?? "",
      password,
    });
    const { mfa_token } = (await first.json()) as { mfa_token: string };
    const finished = await tokenRequest({
      grant_type: mfaGrant,
      mfa_token,
      otp: await nextCode(pool, user.id, secret),
    });
    const pair = (await finished.json()) as { access_token: string; refresh_token: string };
    expect(claimsOf(pair.access_token).amr).toEqual(["pwd", "otp"]);
    const bearer = await verify({ authorization: `Bearer ${pair.access_token}` }, "&mfa=1");
    expect(bearer.status).toBe(200);
    expect(bearer.headers.get("x-auth-mfa")).toBe("true");
    const refreshed = await tokenRequest({
      grant_type: "refresh_token",
      refresh_token: pair.refresh_token,
    });
    const next = (await refreshed.json()) as { access_token: string };
    expect(claimsOf(next.access_token).amr).toEqual(["pwd", "otp"]);
  });

  test("a password-only token says X-Auth-MFA: false and carries amr pwd", async () => {
    const user = await passwordUser();
    await approve(user.id);
    const issued = await tokenRequest({
      grant_type: "password",
      username: user.email ?? "",
      password,
    });
    const pair = (await issued.json()) as { access_token: string };
    expect(claimsOf(pair.access_token).amr).toEqual(["pwd"]);
    const bearer = await verify({ authorization: `Bearer ${pair.access_token}` }, "&mfa=1");
    expect(bearer.status).toBe(403);
  });
});
