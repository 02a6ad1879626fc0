import { afterAll, describe, expect, test } from "bun:test";
import { sql } from "slonik";
import type { NewUser } from "../sql/users.ts";
import { parseConfig } from "../src/config/index.ts";
import { startTestApp, type TestApp } from "./support/app.ts";
import { createTestDatabase } from "./support/database.ts";
import { cookieHeader, cookiesSet, nextIp } from "./support/requests.ts";
import {
  approvedPasswordUser,
  expectSecretOpensNothing,
  mfaGrant,
  knownPassword as password,
  plantPasskey,
} from "./support/sign-in.ts";
import { nextCode, stepNow, totpCode } from "./support/totp.ts";

// MFA_REQUIRED: a user whom policy covers and who has no second factor gets,
// after the right password, nothing but the chance to enrol one; confirming
// the authenticator finishes the sign-in. Until then nothing they hold opens
// /me, /auth/verify or /auth/token.

const { pool, drop } = await createTestDatabase();
const apps: TestApp[] = [];
async function appWith(env: Record<string, string>) {
  const app = await startTestApp(pool, { TRUST_PROXY_HOPS: "1", ...env });
  apps.push(app);
  return app;
}
const admins = await appWith({
  MFA_REQUIRED: "admins",
  ADMIN_EMAILS: "boss@example.com",
  // The mailed sign-in code is read from the development outbox.
  DEV_OUTBOX: "true",
});
const everyone = await appWith({ MFA_REQUIRED: "all" });
afterAll(async () => {
  for (const app of apps) await app.close();
  await drop();
});

const pendingCookie = "gatehouse_mfa_pending";
const sessionCookie = "gatehouse_session";

const passwordUser = (fields: Partial<NewUser> = {}) =>
  approvedPasswordUser(pool, admins.config, fields);

const postJson = (app: TestApp, path: string, body: unknown, cookie = "") =>
  app.request(path, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-forwarded-for": nextIp(),
      origin: app.config.http.PUBLIC_URL,
      ...(cookie ? { cookie } : {}),
    },
    body: JSON.stringify(body),
  });
const postForm = (app: TestApp, path: string, fields: Record<string, string>, cookie = "") =>
  app.request(path, {
    method: "POST",
    redirect: "manual",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "sec-fetch-site": "same-origin",
      "x-forwarded-for": nextIp(),
      ...(cookie ? { cookie } : {}),
    },
    body: new URLSearchParams(fields),
  });
const tokenRequest = (app: TestApp, fields: Record<string, string>) =>
  app.request("/auth/token", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "x-forwarded-for": nextIp() },
    body: new URLSearchParams(fields),
  });

const count = (query: ReturnType<typeof sql.unsafe>) => pool.oneFirst(query) as Promise<number>;
const liveSessions = (userId: string) =>
  count(sql.unsafe`
    SELECT count(*)::int FROM sessions WHERE user_id = ${userId} AND revoked_at IS NULL`);
const refreshTokens = (userId: string) =>
  count(sql.unsafe`SELECT count(*)::int FROM refresh_tokens WHERE user_id = ${userId}`);
const totpOn = (userId: string) =>
  pool.exists(sql.unsafe`
    SELECT 1 FROM mfa_totp WHERE user_id = ${userId} AND confirmed_at IS NOT NULL`);
const amrOfSessions = async (userId: string) =>
  (await pool.anyFirst(sql.unsafe`
    SELECT amr FROM sessions WHERE user_id = ${userId} AND revoked_at IS NULL`)) as string[][];

/** What the pending state hands out opens nothing, as a cookie or as a bearer/refresh token. */
async function expectNothingOpens(app: TestApp, userId: string, cookies: string, secret: string) {
  const asCookie = { cookie: cookies, "sec-fetch-site": "same-origin" };
  expect((await app.request("/me", { headers: asCookie })).status).toBe(401);
  expect((await app.request("/auth/verify", { headers: asCookie })).status).toBe(401);
  await expectSecretOpensNothing(app, secret);
  expect(await liveSessions(userId)).toBe(0);
  expect(await refreshTokens(userId)).toBe(0);
}

describe("MFA_REQUIRED=admins", () => {
  test("an administrator without a second factor gets only an enrolment after the password; confirming it signs them in", async () => {
    const user = await passwordUser({ role: "admin" });
    const login = await postJson(admins, "/auth/login", { email: user.email, password });
    expect(login.status).toBe(200);
    expect(await login.json()).toEqual({
      mfa_required: true,
      methods: [],
      enrolment_required: true,
    });
    const pending = cookiesSet(login);
    expect(Object.keys(pending)).toEqual([pendingCookie]);
    const cookie = cookieHeader(pending);
    await expectNothingOpens(admins, user.id, cookie, pending[pendingCookie] ?? "");

    // A code is no way out of an enrolment: there is no factor to give.
    const coded = await postJson(admins, "/auth/mfa", { code: "123456" }, cookie);
    expect(coded.status).toBe(403);
    expect(await coded.json()).toMatchObject({ code: "mfa_enrolment_required" });

    const started = await postJson(admins, "/auth/mfa/totp", {}, cookie);
    expect(started.status).toBe(200);
    const { secret, otpauth_url } = (await started.json()) as {
      secret: string;
      otpauth_url: string;
    };
    expect(otpauth_url).toStartWith("otpauth://totp/");
    await expectNothingOpens(admins, user.id, cookie, pending[pendingCookie] ?? "");

    const confirmed = await postJson(
      admins,
      "/auth/mfa/totp/confirm",
      { code: totpCode(secret, stepNow()) },
      cookie,
    );
    expect(confirmed.status).toBe(200);
    const body = (await confirmed.json()) as { user: { id: string }; recovery_codes: string[] };
    expect(body.user.id).toBe(user.id);
    expect(body.recovery_codes).toHaveLength(10);
    const session = cookiesSet(confirmed);
    expect(session[sessionCookie]).toBeString();
    const me = await admins.request("/me", { headers: { cookie: cookieHeader(session) } });
    expect(me.status).toBe(200);
    expect(await totpOn(user.id)).toBe(true);
    expect(await amrOfSessions(user.id)).toEqual([["pwd", "otp"]]);

    // From now on the password asks for the code, as for anyone with a factor.
    const again = await postJson(admins, "/auth/login", { email: user.email, password });
    expect(await again.json()).toEqual({ mfa_required: true, methods: ["totp", "recovery_code"] });
  });

  test("a wrong enrolment code is a 422 that writes nothing, and the pending sign-in stays", async () => {
    const user = await passwordUser({ role: "admin" });
    const login = await postJson(admins, "/auth/login", { email: user.email, password });
    const cookie = cookieHeader(cookiesSet(login));
    const started = await postJson(admins, "/auth/mfa/totp", {}, cookie);
    const { secret } = (await started.json()) as { secret: string };
    const right = totpCode(secret, stepNow());
    const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, "0");
    const refused = await postJson(admins, "/auth/mfa/totp/confirm", { code: wrong }, cookie);
    expect(refused.status).toBe(422);
    expect(await refused.json()).toMatchObject({ code: "mfa_enrolment_code_invalid" });
    expect(await totpOn(user.id)).toBe(false);
    expect(await liveSessions(user.id)).toBe(0);
    expect(
      await count(sql.unsafe`
        SELECT count(*)::int FROM mfa_recovery_codes WHERE user_id = ${user.id}`),
    ).toBe(0);
    const confirmed = await postJson(admins, "/auth/mfa/totp/confirm", { code: right }, cookie);
    expect(confirmed.status).toBe(200);
  });

  test("bad input to the enrolment routes is a 4xx problem and writes nothing", async () => {
    const user = await passwordUser({ role: "admin" });
    const login = await postJson(admins, "/auth/login", { email: user.email, password });
    const cookie = cookieHeader(cookiesSet(login));
    const cases: [string, unknown, string][] = [
      ["/auth/mfa/totp/confirm", {}, ""],
      ["/auth/mfa/totp/confirm", { code: "1".repeat(100) }, ""],
      ["/auth/mfa/totp/confirm", { code: 123456 }, ""],
      ["/auth/mfa/totp", { mfa_token: "" }, ""],
      ["/auth/mfa/totp", { mfa_token: "x".repeat(300) }, ""],
      ["/auth/mfa/totp", {}, "nobody"],
      ["/auth/mfa/totp/confirm", { code: "123456" }, "nobody"],
      ["/auth/mfa/totp/confirm", { code: "123456" }, "before-start"],
    ];
    for (const [path, body, who] of cases) {
      const withCookie = who === "nobody" ? "" : cookie;
      const response = await postJson(admins, path, body, withCookie);
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expect(response.headers.get("content-type")).toBe("application/problem+json");
      expect(((await response.json()) as { code?: string }).code).toBeString();
    }
    const malformed = await admins.request("/auth/mfa/totp", {
      method: "POST",
      headers: { "content-type": "application/json", cookie },
      body: "{",
    });
    expect(malformed.status).toBe(400);
    expect(
      await count(sql.unsafe`SELECT count(*)::int FROM mfa_totp WHERE user_id = ${user.id}`),
    ).toBe(0);
    expect(await liveSessions(user.id)).toBe(0);
  });

  test("two concurrent confirmations of one enrolment: exactly one sign-in completes", async () => {
    const user = await passwordUser({ role: "admin" });
    const login = await postJson(admins, "/auth/login", { email: user.email, password });
    const cookie = cookieHeader(cookiesSet(login));
    const { secret } = (await (await postJson(admins, "/auth/mfa/totp", {}, cookie)).json()) as {
      secret: string;
    };
    const code = totpCode(secret, stepNow());
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => postJson(admins, "/auth/mfa/totp/confirm", { code }, cookie)),
    );
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    for (const status of statuses.filter((s) => s !== 200)) {
      expect([401, 409]).toContain(status);
    }
    expect(await liveSessions(user.id)).toBe(1);
    expect(
      await count(sql.unsafe`
        SELECT count(*)::int FROM mfa_recovery_codes WHERE user_id = ${user.id}`),
    ).toBe(10);
  });

  test("an emailed sign-in code of an administrator stops at the enrolment too", async () => {
    const user = await passwordUser({ role: "admin" });
    const asked = await postJson(admins, "/auth/email-code", { email: user.email });
    expect(asked.status).toBe(202);
    let code = "";
    for (let i = 0; i < 100 && !code; i++) {
      const outbox = (await (await admins.request("/dev/outbox")).json()) as {
        messages: { to: string; subject: string }[];
      };
      const mail = outbox.messages.find((m) => m.to === user.email);
      code = /^(\d{6}) /.exec(mail?.subject ?? "")?.[1] ?? "";
      if (!code) await Bun.sleep(20);
    }
    const verified = await postJson(admins, "/auth/email-code/verify", {
      email: user.email,
      code,
    });
    expect(verified.status).toBe(200);
    expect(await verified.json()).toEqual({
      mfa_required: true,
      methods: [],
      enrolment_required: true,
    });
    expect(await liveSessions(user.id)).toBe(0);
  });

  test("a user who is not an administrator signs in with the password alone", async () => {
    const user = await passwordUser();
    const login = await postJson(admins, "/auth/login", { email: user.email, password });
    expect(login.status).toBe(200);
    expect(await login.json()).toMatchObject({ user: { id: user.id } });
  });

  test("an ADMIN_EMAILS address is covered at the very sign-in that makes it an administrator", async () => {
    const user = await passwordUser({ email: "boss@example.com", isWhitelisted: false });
    const login = await postJson(admins, "/auth/login", { email: user.email, password });
    expect(await login.json()).toEqual({
      mfa_required: true,
      methods: [],
      enrolment_required: true,
    });
    expect(await liveSessions(user.id)).toBe(0);
    const role = await pool.oneFirst(sql.unsafe`SELECT role FROM users WHERE id = ${user.id}`);
    expect(role).toBe("user");
  });

  test("the sign-in form leads through the enrolment pages to the recovery codes and a session", async () => {
    const user = await passwordUser({ role: "admin" });
    const login = await postForm(admins, "/auth/login", {
      email: user.email ?? "",
      password,
      redirect_to: "/me",
    });
    expect(login.status).toBe(303);
    expect(login.headers.get("location")).toBe("/auth/mfa?redirect_to=%2Fme");
    const cookie = cookieHeader(cookiesSet(login));

    const page = await admins.request("/auth/mfa?redirect_to=%2Fme", { headers: { cookie } });
    const html = await page.text();
    expect(html).toContain('action="/auth/mfa/totp"');
    expect(html).not.toContain('name="recovery_code"');

    const started = await postForm(admins, "/auth/mfa/totp", { redirect_to: "/me" }, cookie);
    expect(started.status).toBe(200);
    const enrolPage = await started.text();
    expect(enrolPage).toContain("<svg");
    expect(enrolPage).toContain('action="/auth/mfa/totp/confirm"');
    const secret = /Key: <code>([A-Z2-7]+)<\/code>/.exec(enrolPage)?.[1] ?? "";
    expect(secret).not.toBe("");

    const wrong = await postForm(
      admins,
      "/auth/mfa/totp/confirm",
      { code: "000000x", redirect_to: "/me" },
      cookie,
    );
    expect(wrong.status).toBe(422);
    expect(wrong.headers.get("content-type")).toContain("text/html");

    const confirmed = await postForm(
      admins,
      "/auth/mfa/totp/confirm",
      { code: await nextCode(pool, user.id, secret), redirect_to: "/me" },
      cookie,
    );
    expect(confirmed.status).toBe(200);
    const codesPage = await confirmed.text();
    expect(codesPage.match(/<li><code>/g)).toHaveLength(10);
    expect(codesPage).toContain('href="/me"');
    const me = await admins.request("/me", {
      headers: { cookie: cookieHeader(cookiesSet(confirmed)) },
    });
    expect(me.status).toBe(200);
  });

  /** An admin enrolled at sign-in, and the removal of their TOTP with a current code. */
  async function adminRemovingTotp(before?: (userId: string) => Promise<unknown>) {
    const user = await passwordUser({ role: "admin" });
    const login = await postJson(admins, "/auth/login", { email: user.email, password });
    const cookie = cookieHeader(cookiesSet(login));
    const { secret } = (await (await postJson(admins, "/auth/mfa/totp", {}, cookie)).json()) as {
      secret: string;
    };
    const confirmed = await postJson(
      admins,
      "/auth/mfa/totp/confirm",
      { code: await nextCode(pool, user.id, secret) },
      cookie,
    );
    await before?.(user.id);
    const removal = await admins.request("/me/mfa/totp", {
      method: "DELETE",
      headers: {
        "content-type": "application/json",
        cookie: cookieHeader(cookiesSet(confirmed)),
        origin: admins.config.http.PUBLIC_URL,
      },
      body: JSON.stringify({ code: await nextCode(pool, user.id, secret) }),
    });
    return { user, removal };
  }

  test("an administrator cannot turn off their last second factor", async () => {
    const { user, removal } = await adminRemovingTotp();
    expect(removal.status).toBe(409);
    expect(await removal.json()).toMatchObject({ code: "mfa_last_factor" });
    expect(await totpOn(user.id)).toBe(true);
  });

  test("with a passkey left, an administrator's TOTP is not the last factor and can go", async () => {
    const { user, removal } = await adminRemovingTotp((userId) => plantPasskey(pool, userId));
    expect(removal.status).toBe(204);
    expect(await totpOn(user.id)).toBe(false);
  });
});

describe("MFA_REQUIRED=all", () => {
  test("every user must enrol; a token client enrols with its mfa_token and gets its pair", async () => {
    const user = await passwordUser();
    const grant = await tokenRequest(everyone, {
      grant_type: "password",
      username: user.email ?? "",
      password,
    });
    expect(grant.status).toBe(403);
    const refused = (await grant.json()) as { mfa_token: string };
    expect(refused).toMatchObject({
      error: "mfa_required",
      methods: [],
      enrolment_required: true,
    });
    const token = refused.mfa_token;
    await expectNothingOpens(everyone, user.id, "", token);

    // The mfa grant has nothing to finish it with.
    const coded = await tokenRequest(everyone, {
      grant_type: mfaGrant,
      mfa_token: token,
      otp: "123456",
    });
    expect(coded.status).toBe(400);
    expect(await coded.json()).toMatchObject({ code: "mfa_enrolment_required" });

    // A browser's cookie is not the token client's pending sign-in.
    const asCookie = await postJson(everyone, "/auth/mfa/totp", {}, `${pendingCookie}=${token}`);
    expect(asCookie.status).toBe(401);

    const started = await postJson(everyone, "/auth/mfa/totp", { mfa_token: token });
    expect(started.status).toBe(200);
    const { secret } = (await started.json()) as { secret: string };
    const confirmed = await postJson(everyone, "/auth/mfa/totp/confirm", {
      mfa_token: token,
      code: totpCode(secret, stepNow()),
    });
    expect(confirmed.status).toBe(200);
    const pair = (await confirmed.json()) as {
      access_token: string;
      refresh_token: string;
      recovery_codes: string[];
    };
    expect(pair.recovery_codes).toHaveLength(10);
    const me = await everyone.request("/me", {
      headers: { authorization: `Bearer ${pair.access_token}` },
    });
    expect(me.status).toBe(200);
    expect(await amrOfSessions(user.id)).toEqual([["pwd", "otp"]]);

    // Single use: the same mfa_token finishes nothing twice.
    const again = await postJson(everyone, "/auth/mfa/totp/confirm", {
      mfa_token: token,
      code: await nextCode(pool, user.id, secret),
    });
    expect(again.status).toBe(401);
  });

  test("a user with a second factor is asked for it, as without the policy", async () => {
    const user = await passwordUser();
    const login = await postJson(everyone, "/auth/login", { email: user.email, password });
    const cookie = cookieHeader(cookiesSet(login));
    const { secret } = (await (await postJson(everyone, "/auth/mfa/totp", {}, cookie)).json()) as {
      secret: string;
    };
    await postJson(
      everyone,
      "/auth/mfa/totp/confirm",
      { code: await nextCode(pool, user.id, secret) },
      cookie,
    );
    const next = await postJson(everyone, "/auth/login", { email: user.email, password });
    expect(await next.json()).toEqual({ mfa_required: true, methods: ["totp", "recovery_code"] });
  });
});

test("MFA_REQUIRED defaults to admins in production and none elsewhere", () => {
  const base = { DATABASE_URL: "postgres://unused" };
  expect(parseConfig(base).mfa.MFA_REQUIRED).toBe("none");
  expect(parseConfig({ ...base, NODE_ENV: "test" }).mfa.MFA_REQUIRED).toBe("none");
  expect(parseConfig({ ...base, NODE_ENV: "production" }).mfa.MFA_REQUIRED).toBe("admins");
  expect(
    parseConfig({ ...base, NODE_ENV: "production", MFA_REQUIRED: "none" }).mfa.MFA_REQUIRED,
  ).toBe("none");
  expect(() => parseConfig({ ...base, MFA_REQUIRED: "some" })).toThrow(/MFA_REQUIRED/);
  expect(parseConfig(base).mfa.MFA_TRUST_PROVIDER_AMR).toBe(false);
});
