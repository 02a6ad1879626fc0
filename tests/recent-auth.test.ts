import { describe, expect, test } from "bun:test";
import { sql } from "slonik";
import { findUserById, insertUser, type User } from "../sql/users.ts";
import { hashPassword } from "../src/password/hashing.ts";
import { appTestSetup } from "./support/app.ts";
import { formPoster, jsonSender } from "./support/requests.ts";
import { nextCode, stepNow, totpCode } from "./support/totp.ts";

// "Recent auth": sensitive changes need a sign-in or step-up within
// REAUTH_MAX_AGE, else 401 reauth_required; POST /auth/reauth steps up, and
// its wrong answers count toward the lockout. REAUTH_MAX_AGE is 2 s here so
// that one test can watch it run out; the others age the session in the
// database instead of waiting.

const { db, app } = await appTestSetup({
  REAUTH_MAX_AGE: "2s",
  LOGIN_MAX_FAILURES: "3",
  // Every request comes from 127.0.0.1: the per-address sign-in limit is not under test here.
  RATE_LIMIT_LOGIN_IP: "1000/5m",
});
const { pool } = db;

const send = jsonSender(app);
const postForm = formPoster(app);
const password = "correct horse battery staple";
let counter = 0;

async function user(fields: { role?: "admin" | "user" } = {}): Promise<User> {
  return insertUser(pool, {
    email: `recent${++counter}@example.com`,
    emailVerified: true,
    isWhitelisted: true,
    passwordHash: await hashPassword(password, app.config.passwords),
    ...fields,
  });
}

/** Signs in through POST /auth/login, as a browser would; the session cookie. */
async function signIn(who: User): Promise<string> {
  const response = await send("POST", "/auth/login", null, { email: who.email, password });
  expect(response.status).toBe(200);
  const header = response.headers.getSetCookie().find((h) => h.startsWith("gatehouse_session="));
  return (header ?? "").split(";")[0] ?? "";
}

/** Makes the user's sessions' last proof of identity `seconds` old. */
async function age(userId: string, seconds: number) {
  await pool.query(sql.unsafe`
    UPDATE sessions SET authenticated_at = now() - make_interval(secs => ${seconds})
    WHERE user_id = ${userId}`);
}

async function expectReauthRequired(response: Response) {
  expect(response.status).toBe(401);
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  expect(await response.json()).toMatchObject({ code: "reauth_required", reauth_required: true });
}

const passwordHashOf = async (userId: string) => (await findUserById(pool, userId))?.password_hash;
const failuresOf = async (userId: string) =>
  (await findUserById(pool, userId))?.failed_login_attempts;

describe("the guard", () => {
  test("a password change passes right after sign-in and is refused once REAUTH_MAX_AGE has run out", async () => {
    const who = await user();
    const cookie = await signIn(who);
    const change = (to: string) =>
      send("POST", "/auth/password/change", cookie, {
        current_password: password,
        new_password: to,
      });
    expect((await change("another horse battery staple")).status).toBe(200);
    const changed = await passwordHashOf(who.id);
    await Bun.sleep(2100);
    await expectReauthRequired(await change("a third horse battery staple"));
    expect(await passwordHashOf(who.id)).toBe(changed);
  });

  test("POST /auth/reauth with the password opens the guarded changes again, for REAUTH_MAX_AGE", async () => {
    const who = await user();
    const cookie = await signIn(who);
    await age(who.id, 60);
    await expectReauthRequired(await send("DELETE", "/me", cookie));
    const stepped = await send("POST", "/auth/reauth", cookie, { password });
    expect(stepped.status).toBe(200);
    const body = (await stepped.json()) as { authenticated_at: string; recent_until: string };
    expect(Date.parse(body.recent_until) - Date.parse(body.authenticated_at)).toBe(2000);
    expect((await send("DELETE", "/me", cookie)).status).toBe(204);
    const events = await pool.anyFirst(sql.unsafe`
      SELECT event_type FROM audit_events WHERE user_id = ${who.id} ORDER BY occurred_at, id`);
    expect(events).toContain("session.reauthenticated");
  });

  test("second-factor changes are guarded: enrolling, turning off, new recovery codes", async () => {
    const who = await user();
    const cookie = await signIn(who);
    const started = await send("POST", "/me/mfa/totp", cookie);
    const { secret } = (await started.json()) as { secret: string };
    await send("POST", "/me/mfa/totp/confirm", cookie, { code: totpCode(secret, stepNow()) });
    await age(who.id, 60);
    await expectReauthRequired(await send("POST", "/me/mfa/totp", cookie));
    await expectReauthRequired(
      await send("DELETE", "/me/mfa/totp", cookie, { code: await nextCode(pool, who.id, secret) }),
    );
    await expectReauthRequired(
      await send("POST", "/me/mfa/recovery-codes", cookie, {
        code: await nextCode(pool, who.id, secret),
      }),
    );
    const factors = await send("GET", "/me/mfa", cookie);
    expect(await factors.json()).toMatchObject({
      totp: { enabled: true },
      recovery_codes_left: 10,
    });
  });

  test("admin writes are guarded, admin reads are not", async () => {
    const admin = await user({ role: "admin" });
    const target = await user();
    const cookie = await signIn(admin);
    await age(admin.id, 60);
    expect((await send("GET", "/admin/users", cookie)).status).toBe(200);
    expect((await send("GET", `/admin/users/${target.id}`, cookie)).status).toBe(200);
    await expectReauthRequired(
      await send("PATCH", `/admin/users/${target.id}`, cookie, { status: "locked" }),
    );
    await expectReauthRequired(
      await send("POST", "/admin/allowlist", cookie, { kind: "domain", value: "example.org" }),
    );
    await expectReauthRequired(await send("DELETE", `/admin/users/${target.id}`, cookie));
    await expectReauthRequired(await send("POST", `/admin/users/${target.id}/mfa/reset`, cookie));
    expect((await findUserById(pool, target.id))?.status).toBe("active");
    expect(await pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM allowlist_rules`)).toBe(0);

    expect((await send("POST", "/auth/reauth", cookie, { password })).status).toBe(200);
    const locked = await send("PATCH", `/admin/users/${target.id}`, cookie, { status: "locked" });
    expect(locked.status).toBe(200);
  });

  test("the admin page's forms send a stale administrator to the step-up, which lets the form through", async () => {
    const admin = await user({ role: "admin" });
    const target = await user();
    const cookie = await signIn(admin);
    await age(admin.id, 60);
    const back = `/admin/view/users/${target.id}`;
    const refused = await postForm(`/admin/forms/users/${target.id}`, cookie, {
      action: "lock",
      back,
    });
    expect(refused.status).toBe(303);
    expect(refused.headers.get("location")).toBe(`${back}?error=reauth_required`);
    expect((await findUserById(pool, target.id))?.status).toBe("active");
    const page = await app.request(`${back}?error=reauth_required`, { headers: { cookie } });
    expect(await page.text()).toContain('action="/admin/forms/reauth"');

    const wrong = await postForm("/admin/forms/reauth", cookie, { back, password: "wrong" });
    expect(wrong.headers.get("location")).toBe(`${back}?error=invalid_credentials`);
    const stepped = await postForm("/admin/forms/reauth", cookie, { back, password });
    expect(stepped.headers.get("location")).toBe(`${back}?notice=reauthenticated`);
    const locked = await postForm(`/admin/forms/users/${target.id}`, cookie, {
      action: "lock",
      back,
    });
    expect(locked.headers.get("location")).toBe(`${back}?notice=lock`);
    expect((await findUserById(pool, target.id))?.status).toBe("locked");
  });

  test("a bearer token counts from its token sign-in, and steps up with the token", async () => {
    const who = await user();
    const grant = await app.request("/auth/token", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "password", username: who.email ?? "", password }),
    });
    const { access_token } = (await grant.json()) as { access_token: string };
    const bearer = { authorization: `Bearer ${access_token}`, "content-type": "application/json" };
    await age(who.id, 60);
    await expectReauthRequired(await app.request("/me", { method: "DELETE", headers: bearer }));
    const stepped = await app.request("/auth/reauth", {
      method: "POST",
      headers: bearer,
      body: JSON.stringify({ password }),
    });
    expect(stepped.status).toBe(200);
    expect((await app.request("/me", { method: "DELETE", headers: bearer })).status).toBe(204);
  });
});

describe("POST /auth/reauth", () => {
  test("wrong passwords count toward the lockout; once locked, even the right one is refused", async () => {
    const who = await user();
    const cookie = await signIn(who);
    await age(who.id, 60);
    for (let i = 1; i <= 3; i++) {
      const wrong = await send("POST", "/auth/reauth", cookie, { password: "not it" });
      expect(wrong.status).toBe(401);
      expect(await wrong.json()).toMatchObject({ code: "invalid_credentials" });
    }
    const locked = await pool.anyFirst(sql.unsafe`
      SELECT event_type FROM audit_events WHERE user_id = ${who.id} AND event_type = 'account.locked'`);
    expect(locked).toHaveLength(1);
    expect((await findUserById(pool, who.id))?.locked_until?.getTime()).toBeGreaterThan(Date.now());
    const right = await send("POST", "/auth/reauth", cookie, { password });
    expect(right.status).toBe(423);
    await expectReauthRequired(await send("DELETE", "/me", cookie));
  });

  test("an account with a second factor steps up with it, not with the password; wrong codes count", async () => {
    const who = await user();
    const cookie = await signIn(who);
    const { secret } = (await (await send("POST", "/me/mfa/totp", cookie)).json()) as {
      secret: string;
    };
    const confirmed = await send("POST", "/me/mfa/totp/confirm", cookie, {
      code: totpCode(secret, stepNow()),
    });
    const { recovery_codes: recoveryCodes } = (await confirmed.json()) as {
      recovery_codes: string[];
    };
    await age(who.id, 60);
    const byPassword = await send("POST", "/auth/reauth", cookie, { password });
    expect(byPassword.status).toBe(403);
    expect(await byPassword.json()).toMatchObject({ code: "mfa_proof_required" });
    const before = await failuresOf(who.id);
    const wrong = await send("POST", "/auth/reauth", cookie, { code: "000000" });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ code: "mfa_code_invalid" });
    expect(await failuresOf(who.id)).toBe((before ?? 0) + 1);
    const coded = await send("POST", "/auth/reauth", cookie, {
      code: await nextCode(pool, who.id, secret),
    });
    expect(coded.status).toBe(200);
    await age(who.id, 60);
    const [recoveryCode] = recoveryCodes;
    const byRecoveryCode = await send("POST", "/auth/reauth", cookie, {
      recovery_code: recoveryCode,
    });
    expect(byRecoveryCode.status).toBe(200);
    const renewed = await send("POST", "/me/mfa/recovery-codes", cookie, {
      code: await nextCode(pool, who.id, secret),
    });
    expect(renewed.status).toBe(200);
  });

  test("the OpenAPI document describes the step-up and the guard", async () => {
    const document = (await (await app.request("/openapi.json")).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, { description: string }> }>>;
    };
    expect(document.paths["/auth/reauth"]?.post).toBeDefined();
    const patch = document.paths["/admin/users/{id}"]?.patch;
    expect(patch?.responses["401"]?.description).toContain("reauth_required");
    const read = document.paths["/admin/users/{id}"]?.get;
    expect(read?.responses["401"]?.description).not.toContain("reauth_required");
  });

  test("bad input is a 4xx problem and changes nothing; anonymous callers get 401", async () => {
    const who = await user();
    const cookie = await signIn(who);
    await age(who.id, 60);
    const bodies: unknown[] = [
      {},
      { password: "" },
      { password, code: "123456" },
      { code: "123456", recovery_code: "abcd-efgh-ijkl-mnop" },
      { password: 42 },
      { code: "1".repeat(100) },
      [],
    ];
    for (const body of bodies) {
      const response = await send("POST", "/auth/reauth", cookie, body);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ code: "validation_failed" });
    }
    const anonymous = await send("POST", "/auth/reauth", null, { password });
    expect(anonymous.status).toBe(401);
    expect(await failuresOf(who.id)).toBe(0);
    await expectReauthRequired(await send("DELETE", "/me", cookie));
  });
});
