import { afterAll, describe, expect, test } from "bun:test";
import { sql } from "slonik";
import type { User } from "../sql/users.ts";
import { newWebhookSecret } from "../src/webhooks/signing.ts";
import { startTestApp } from "./support/app.ts";
import { cleanupNow } from "./support/cleanup.ts";
import { testKey } from "./support/cli.ts";
import { createTestDatabase } from "./support/database.ts";
import { TestAuthenticator } from "./support/passkey-authenticator.ts";
import { nextIp } from "./support/requests.ts";
import { approvedPasswordUser } from "./support/sign-in.ts";
import { stepNow, totpCode } from "./support/totp.ts";
import { plantWebhookEndpoint } from "./support/webhook-endpoints.ts";

// Passkeys through the front door, answered by a software authenticator
// (tests/support/passkey-authenticator.ts) as a browser's would answer:
// registering, signing in with one alone, and giving one as the second
// factor after a password; and everything that must be refused, with
// nothing written.

const { pool, drop } = await createTestDatabase();
const publicHost = "auth.example.test";
const origin = `https://${publicHost}`;
const env = {
  PUBLIC_URL: origin,
  TRUST_PROXY_HOPS: "1",
  TOKEN_ENCRYPTION_KEYS: testKey("k1", 1),
};
const app = await startTestApp(pool, env);
afterAll(async () => {
  await app.close();
  await drop();
});

const password = "correct horse battery staple";
const sessionCookie = "__Host-gatehouse_session";
const pendingCookie = "__Secure-gatehouse_mfa_pending";
const _counter = 0;

type Json = Record<string, unknown>;
type Options = { challenge: string; user?: { id: string }; excludeCredentials?: { id: string }[] };

const passwordUser = () => approvedPasswordUser(pool, app.config);

/** The `name=value` pairs a response sets (expired ones left out), as a Cookie header. */
function cookiesOf(response: Response): string {
  return response.headers
    .getSetCookie()
    .filter((h) => !/max-age=0/i.test(h))
    .map((h) => h.split(";")[0])
    .join("; ");
}

/** A same-origin JSON request, as the pages' script sends it. */
function send(method: string, path: string, cookie: string, body?: unknown): Promise<Response> {
  return app.request(path, {
    method,
    headers: {
      origin,
      "x-forwarded-for": nextIp(),
      ...(cookie ? { cookie } : {}),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}
const post = (path: string, cookie: string, body?: unknown) => send("POST", path, cookie, body);

async function json<T = Json>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  expect(`${response.status} ${text}`).toStartWith(`${status} `);
  return JSON.parse(text) as T;
}

/** A password sign-in; the cookie it sets (a session, or a pending sign-in). */
async function logIn(user: User) {
  const login = await post("/auth/login", "", { email: user.email, password });
  return { body: await json(login, 200), cookie: cookiesOf(login) };
}

async function register(cookie: string, authenticator: TestAuthenticator, name = "Laptop") {
  const options = await json<Options>(await post("/me/passkeys/options", cookie), 200);
  const passkey = authenticator.register(options);
  const created = await json(await post("/me/passkeys/verify", cookie, { name, passkey }), 201);
  return { options, passkey, created };
}

/** A password user with one passkey, registered from a session that is then signed out. */
async function userWithPasskey() {
  const user = await passwordUser();
  const { cookie } = await logIn(user);
  const authenticator = new TestAuthenticator(origin);
  const { created } = await register(cookie, authenticator);
  expect((await post("/auth/logout", cookie)).status).toBe(204);
  return { user, authenticator, passkeyId: created.id as string };
}

async function passkeySignIn(authenticator: TestAuthenticator, how = {}) {
  const options = await json<Options>(await post("/auth/passkey/options", ""), 200);
  return post("/auth/passkey/verify", "", { passkey: authenticator.assert(options, how) });
}

const count = (query: ReturnType<typeof sql.unsafe>) => pool.oneFirst(query) as Promise<number>;
const passkeysOf = (userId: string) =>
  count(sql.unsafe`SELECT count(*)::int FROM passkeys WHERE user_id = ${userId}`);
const liveSessions = (userId: string) =>
  count(sql.unsafe`
    SELECT count(*)::int FROM sessions WHERE user_id = ${userId} AND revoked_at IS NULL`);
const allRows = async () => ({
  passkeys: await count(sql.unsafe`SELECT count(*)::int FROM passkeys`),
  sessions: await count(sql.unsafe`SELECT count(*)::int FROM sessions`),
  challenges: await count(sql.unsafe`SELECT count(*)::int FROM webauthn_challenges`),
});
const eventsOf = async (userId: string, type: string) =>
  (await pool.any(sql.unsafe`
    SELECT context, failure_reason FROM audit_events
    WHERE user_id = ${userId} AND event_type = ${type} ORDER BY occurred_at, id`)) as readonly {
    context: Json;
    failure_reason: string | null;
  }[];
const storedPasskey = (id: string) =>
  pool.one(sql.unsafe`
    SELECT counter::int, last_used_at, backed_up, device_type FROM passkeys WHERE id = ${id}`) as Promise<{
    counter: number;
    last_used_at: Date | null;
    backed_up: boolean;
    device_type: string;
  }>;

describe("registering passkeys", () => {
  test("a signed-in user registers several passkeys under their names and lists them; each is audited", async () => {
    const user = await passwordUser();
    const { cookie } = await logIn(user);
    const authenticator = new TestAuthenticator(origin);
    const first = await register(cookie, authenticator, "Laptop");
    expect(first.options.user?.id).toBe(
      Buffer.from(user.id.replaceAll("-", ""), "hex").toString("base64url"),
    );
    expect(first.options).toMatchObject({
      rp: { id: publicHost, name: "Gatehouse" },
      authenticatorSelection: { residentKey: "required", userVerification: "required" },
      attestation: "none",
    });
    const phone = new TestAuthenticator(origin);
    await register(cookie, phone, "Phone");

    const list = await json<{ passkeys: Json[] }>(await send("GET", "/me/passkeys", cookie), 200);
    expect(list.passkeys.map((p) => p.name)).toEqual(["Laptop", "Phone"]);
    expect(list.passkeys[0]).toMatchObject({
      id: first.created.id,
      last_used_at: null,
      device_type: "singleDevice",
      backed_up: false,
    });
    expect(Object.keys(list.passkeys[0] ?? {}).sort()).toEqual(
      ["backed_up", "created_at", "device_type", "id", "last_used_at", "name"].sort(),
    );
    const registered = await eventsOf(user.id, "mfa.enrolled");
    expect(registered.map((e) => e.context)).toEqual(
      list.passkeys.map((p) => expect.objectContaining({ method: "passkey", passkey_id: p.id })),
    );
  });

  test("registration options exclude the passkeys the user has already", async () => {
    const user = await passwordUser();
    const { cookie } = await logIn(user);
    const { passkey } = await register(cookie, new TestAuthenticator(origin));
    const options = await json<Options>(await post("/me/passkeys/options", cookie), 200);
    expect(options.excludeCredentials?.map((c) => c.id)).toEqual([passkey.id]);
  });

  test("a synced passkey is stored as multi-device and backed up", async () => {
    const user = await passwordUser();
    const { cookie } = await logIn(user);
    const options = await json<Options>(await post("/me/passkeys/options", cookie), 200);
    const passkey = new TestAuthenticator(origin).register(options, { backupEligible: true });
    const created = await json(
      await post("/me/passkeys/verify", cookie, { name: "Synced", passkey }),
      201,
    );
    expect(created).toMatchObject({ device_type: "multiDevice", backed_up: true });
  });

  test("a registration answer is refused and nothing stored when replayed, from another origin, without user verification, or for another user's challenge", async () => {
    const user = await passwordUser();
    const other = await passwordUser();
    const { cookie } = await logIn(user);
    const { cookie: otherCookie } = await logIn(other);
    const authenticator = new TestAuthenticator(origin);
    const refused = async (passkey: unknown, asCookie = cookie) => {
      const before = await allRows();
      const answer = await json(
        await post("/me/passkeys/verify", asCookie, { name: "Nope", passkey }),
        422,
      );
      expect(answer.code).toBe("passkey_unverified");
      expect((await allRows()).passkeys).toBe(before.passkeys);
    };

    const used = await register(cookie, authenticator);
    await refused(used.passkey);
    const elsewhere = await json<Options>(await post("/me/passkeys/options", cookie), 200);
    await refused(authenticator.register(elsewhere, { origin: "https://evil.example" }));
    const unverified = await json<Options>(await post("/me/passkeys/options", cookie), 200);
    await refused(authenticator.register(unverified, { userVerified: false }));
    // The other user's challenge, answered in this user's session.
    const theirs = await json<Options>(await post("/me/passkeys/options", otherCookie), 200);
    await refused(authenticator.register(theirs));
    expect(await passkeysOf(user.id)).toBe(1);
    expect(await passkeysOf(other.id)).toBe(0);
  });

  test("a passkey is removed by its owner only, audited, and no longer signs in", async () => {
    const { user, authenticator, passkeyId } = await userWithPasskey();
    const stranger = await passwordUser();
    const { cookie: strangerCookie } = await logIn(stranger);
    const notTheirs = await json(
      await send("DELETE", `/me/passkeys/${passkeyId}`, strangerCookie),
      404,
    );
    expect(notTheirs.code).toBe("passkey_not_found");
    expect(await passkeysOf(user.id)).toBe(1);

    // Signing in with the passkey is complete; the session it opens may remove it.
    const signedIn = await passkeySignIn(authenticator);
    expect(signedIn.status).toBe(200);
    const session = cookiesOf(signedIn);
    expect((await send("DELETE", `/me/passkeys/${passkeyId}`, session)).status).toBe(204);
    expect(await passkeysOf(user.id)).toBe(0);
    expect((await eventsOf(user.id, "mfa.removed")).map((e) => e.context)).toEqual([
      expect.objectContaining({ method: "passkey", passkey_id: passkeyId }),
    ]);
    const again = await json(await passkeySignIn(authenticator), 401);
    expect(again.code).toBe("passkey_not_accepted");
    expect((await send("DELETE", `/me/passkeys/${passkeyId}`, session)).status).toBe(404);
  });

  test("under MFA_REQUIRED a user's last second factor, a passkey, cannot be removed; with another left it can", async () => {
    const strict = await startTestApp(pool, { ...env, MFA_REQUIRED: "all" });
    try {
      const { user, authenticator, passkeyId } = await userWithPasskey();
      const session = cookiesOf(await passkeySignIn(authenticator));
      const remove = (id: string) =>
        strict.request(`/me/passkeys/${id}`, {
          method: "DELETE",
          headers: { origin, "x-forwarded-for": nextIp(), cookie: session },
        });
      const refused = await json(await remove(passkeyId), 409);
      expect(refused.code).toBe("mfa_last_factor");
      expect(await passkeysOf(user.id)).toBe(1);
      expect(await eventsOf(user.id, "mfa.removed")).toEqual([]);

      const second = await register(session, new TestAuthenticator(origin), "Phone");
      expect((await remove(passkeyId)).status).toBe(204);
      expect(await passkeysOf(user.id)).toBe(1);
      const last = await json(await remove(second.created.id as string), 409);
      expect(last.code).toBe("mfa_last_factor");
    } finally {
      await strict.close();
    }
  });

  test("the account export lists the passkeys, without their keys", async () => {
    const user = await passwordUser();
    const { cookie } = await logIn(user);
    const { created } = await register(cookie, new TestAuthenticator(origin), "Laptop");
    const exported = await json<{ passkeys: Json[] }>(await send("GET", "/me/export", cookie), 200);
    expect(exported.passkeys).toEqual([
      expect.objectContaining({ id: created.id, name: "Laptop", transports: ["internal"] }),
    ]);
    expect(JSON.stringify(exported)).not.toMatch(/public_key|credential_id/);
  });

  test("deleting the account deletes its passkeys", async () => {
    const user = await passwordUser();
    const { cookie } = await logIn(user);
    const authenticator = new TestAuthenticator(origin);
    await register(cookie, authenticator);
    expect((await send("DELETE", "/me", cookie)).status).toBe(204);
    expect(await passkeysOf(user.id)).toBe(0);
    expect((await json(await passkeySignIn(authenticator), 401)).code).toBe("passkey_not_accepted");
  });

  test("adding or removing a passkey needs a recent sign-in", async () => {
    const user = await passwordUser();
    const { cookie } = await logIn(user);
    const { created } = await register(cookie, new TestAuthenticator(origin));
    await pool.query(sql.unsafe`
      UPDATE sessions SET authenticated_at = now() - interval '1 hour' WHERE user_id = ${user.id}`);
    const add = await json(await post("/me/passkeys/options", cookie), 401);
    expect(add).toMatchObject({ code: "reauth_required", reauth_required: true });
    const remove = await json(await send("DELETE", `/me/passkeys/${created.id}`, cookie), 401);
    expect(remove).toMatchObject({ code: "reauth_required", reauth_required: true });
    expect(await passkeysOf(user.id)).toBe(1);
  });

  test("a passkey steps a stale session up, and the passkey changes then pass", async () => {
    const user = await passwordUser();
    const { cookie } = await logIn(user);
    const authenticator = new TestAuthenticator(origin);
    const { created } = await register(cookie, authenticator);
    await pool.query(sql.unsafe`
      UPDATE sessions SET authenticated_at = now() - interval '1 hour' WHERE user_id = ${user.id}`);
    expect((await send("DELETE", `/me/passkeys/${created.id}`, cookie)).status).toBe(401);
    const options = await json<Options>(await post("/auth/reauth/passkey/options", cookie), 200);
    const passkey = authenticator.assert(options);
    expect((await post("/auth/reauth", cookie, { passkey })).status).toBe(200);
    expect((await send("DELETE", `/me/passkeys/${created.id}`, cookie)).status).toBe(204);
  });

  test("another user's passkey does not step up this session", async () => {
    const other = await userWithPasskey();
    const user = await passwordUser();
    const { cookie } = await logIn(user);
    await register(cookie, new TestAuthenticator(origin));
    await pool.query(sql.unsafe`
      UPDATE sessions SET authenticated_at = now() - interval '1 hour' WHERE user_id = ${user.id}`);
    const options = await json<Options>(await post("/auth/reauth/passkey/options", cookie), 200);
    const refused = await post("/auth/reauth", cookie, {
      passkey: other.authenticator.assert(options),
    });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused.status).toBeLessThan(500);
    expect((await post("/me/passkeys/options", cookie)).status).toBe(401);
  });

  test("the passkey routes of /me need a session", async () => {
    for (const [method, path] of [
      ["GET", "/me/passkeys"],
      ["POST", "/me/passkeys/options"],
      ["POST", "/me/passkeys/verify"],
      ["DELETE", `/me/passkeys/${crypto.randomUUID()}`],
    ] as const) {
      const answer = await send(method, path, "", method === "POST" ? {} : undefined);
      expect(`${method} ${path} ${answer.status}`).toBe(`${method} ${path} 401`);
    }
  });
});

describe("signing in with a passkey alone", () => {
  test("a passkey signs in without a password: a complete sign-in, its use recorded", async () => {
    const { user, authenticator, passkeyId } = await userWithPasskey();
    const before = await storedPasskey(passkeyId);
    const options = await json<
      Options & { allowCredentials?: unknown[]; userVerification?: string }
    >(await post("/auth/passkey/options", ""), 200);
    expect(options).toMatchObject({ rpId: publicHost, userVerification: "required" });
    expect(options.allowCredentials).toEqual([]);
    const signedIn = await post("/auth/passkey/verify", "", {
      passkey: authenticator.assert(options),
    });
    expect(((await json(signedIn, 200)).user as Json).id).toBe(user.id);
    const cookie = cookiesOf(signedIn);
    expect(cookie).toStartWith(`${sessionCookie}=`);

    const me = await json(await send("GET", "/me", cookie), 200);
    expect(me.amr).toEqual(["hwk", "user", "mfa"]);
    const verify = await app.request("/auth/verify", { headers: { cookie } });
    expect(verify.status).toBe(200);
    expect(verify.headers.get("x-auth-mfa")).toBe("true");
    const after = await storedPasskey(passkeyId);
    expect(after.counter).toBe(before.counter + 1);
    expect(after.last_used_at).toBeInstanceOf(Date);
    const succeeded = await eventsOf(user.id, "login.succeeded");
    expect(succeeded.at(-1)?.context).toMatchObject({
      method: "passkey",
      amr: ["hwk", "user", "mfa"],
      passkey_id: passkeyId,
    });
  });

  test("a user with TOTP signs in with a passkey alone: no second factor is owed", async () => {
    const user = await passwordUser();
    const { cookie } = await logIn(user);
    const started = await json<{ secret: string }>(await post("/me/mfa/totp", cookie), 200);
    await json(
      await post("/me/mfa/totp/confirm", cookie, { code: totpCode(started.secret, stepNow()) }),
      200,
    );
    const authenticator = new TestAuthenticator(origin);
    await register(cookie, authenticator);
    expect((await post("/auth/logout", cookie)).status).toBe(204);

    const signedIn = await passkeySignIn(authenticator);
    expect(await json(signedIn, 200)).toHaveProperty("user");
    expect(cookiesOf(signedIn)).toStartWith(`${sessionCookie}=`);
    expect(cookiesOf(signedIn)).not.toContain(pendingCookie);
  });

  test("a cloned passkey whose counter fell behind is refused, and so is a replayed answer", async () => {
    const { user, authenticator, passkeyId } = await userWithPasskey();
    const clone = authenticator.clone();
    expect((await passkeySignIn(authenticator)).status).toBe(200);
    const sessions = await liveSessions(user.id);

    // The clone signs with the counter the original already used.
    const cloned = await json(await passkeySignIn(clone), 401);
    expect(cloned.code).toBe("passkey_not_accepted");
    expect((await eventsOf(user.id, "login.failed")).at(-1)?.failure_reason).toBe(
      "passkey_counter",
    );
    expect((await storedPasskey(passkeyId)).counter).toBe(1);

    const options = await json<Options>(await post("/auth/passkey/options", ""), 200);
    const answer = { passkey: authenticator.assert(options) };
    expect((await post("/auth/passkey/verify", "", answer)).status).toBe(200);
    const replayed = await json(await post("/auth/passkey/verify", "", answer), 401);
    expect(replayed.code).toBe("passkey_not_accepted");
    expect(await liveSessions(user.id)).toBe(sessions + 1);
  });

  test("of two concurrent uses of one answer, exactly one signs in", async () => {
    const { user, authenticator } = await userWithPasskey();
    const options = await json<Options>(await post("/auth/passkey/options", ""), 200);
    const answer = { passkey: authenticator.assert(options) };
    const statuses = await Promise.all(
      Array.from({ length: 5 }, () =>
        post("/auth/passkey/verify", "", answer).then((r) => r.status),
      ),
    );
    expect(statuses.sort()).toEqual([200, 401, 401, 401, 401]);
    expect(await liveSessions(user.id)).toBe(1);
  });

  test("an answer without user verification, from another origin, or from an unknown passkey signs no one in", async () => {
    const { user, authenticator } = await userWithPasskey();
    const before = await liveSessions(user.id);
    const unverified = await json(await passkeySignIn(authenticator, { userVerified: false }), 401);
    expect(unverified.code).toBe("passkey_not_accepted");
    const phished = await json(
      await passkeySignIn(authenticator, { origin: "https://auth.example.test.evil.example" }),
      401,
    );
    expect(phished.code).toBe("passkey_not_accepted");
    const stranger = new TestAuthenticator(origin);
    stranger.register({ challenge: "x", user: { id: "AAAA" } });
    const unknown = await json(await passkeySignIn(stranger), 401);
    expect(unknown.code).toBe("passkey_not_accepted");
    expect(await liveSessions(user.id)).toBe(before);
    const reasons = (await eventsOf(user.id, "login.failed")).map((e) => e.failure_reason);
    expect(reasons).toEqual(["passkey_signature", "passkey_signature"]);
  });

  test("a challenge serves only the ceremony it was issued for", async () => {
    const { user, authenticator } = await userWithPasskey();
    const { cookie } = await logIn(user); // pending: the passkey is a second factor now
    const forSecondFactor = await json<Options>(
      await post("/auth/mfa/passkey/options", cookie),
      200,
    );
    const asSignIn = await post("/auth/passkey/verify", "", {
      passkey: authenticator.assert(forSecondFactor),
    });
    expect((await json(asSignIn, 401)).code).toBe("passkey_not_accepted");
    expect((await eventsOf(user.id, "login.failed")).at(-1)?.failure_reason).toBe(
      "passkey_challenge",
    );
  });
});

describe("challenges", () => {
  test("an expired challenge is refused, and cleanup sweeps expired challenges, not live ones", async () => {
    const { user, authenticator } = await userWithPasskey();
    const options = await json<Options>(await post("/auth/passkey/options", ""), 200);
    await json<Options>(await post("/auth/passkey/options", ""), 200);
    await pool.query(sql.unsafe`
      UPDATE webauthn_challenges SET expires_at = now() - interval '1 second'
      WHERE challenge = ${sql.binary(Buffer.from(options.challenge, "base64url"))}`);
    const late = await post("/auth/passkey/verify", "", { passkey: authenticator.assert(options) });
    expect((await json(late, 401)).code).toBe("passkey_not_accepted");
    expect(await liveSessions(user.id)).toBe(0);

    const live = await count(sql.unsafe`
      SELECT count(*)::int FROM webauthn_challenges WHERE expires_at > now()`);
    const report = await cleanupNow(pool, { auditRetentionDays: 3650 });
    expect(report.ran && report.removed.webauthn_challenges).toBe(1);
    expect(await count(sql.unsafe`SELECT count(*)::int FROM webauthn_challenges`)).toBe(live);
  });

  test("a user's new challenge replaces their earlier one of the same ceremony", async () => {
    const user = await passwordUser();
    const { cookie } = await logIn(user);
    const first = await json<Options>(await post("/me/passkeys/options", cookie), 200);
    await json<Options>(await post("/me/passkeys/options", cookie), 200);
    const stale = new TestAuthenticator(origin).register(first);
    const answer = await post("/me/passkeys/verify", cookie, { name: "Old", passkey: stale });
    expect((await json(answer, 422)).code).toBe("passkey_unverified");
    expect(
      await count(sql.unsafe`
        SELECT count(*)::int FROM webauthn_challenges WHERE user_id = ${user.id}`),
    ).toBe(1);
  });
});

describe("a passkey as the second factor", () => {
  test("a passkey makes a password sign-in ask for it, and finishes it", async () => {
    const { user, authenticator, passkeyId } = await userWithPasskey();
    const { body, cookie } = await logIn(user);
    expect(body).toEqual({ mfa_required: true, methods: ["passkey"] });
    expect(cookie).toStartWith(`${pendingCookie}=`);
    expect((await send("GET", "/me", cookie)).status).toBe(401);

    const options = await json<Options & { allowCredentials: { id: string }[] }>(
      await post("/auth/mfa/passkey/options", cookie),
      200,
    );
    expect(options.allowCredentials.map((c) => c.id)).toEqual([authenticator.firstCredentialId]);
    const finished = await post("/auth/mfa", cookie, { passkey: authenticator.assert(options) });
    expect(((await json(finished, 200)).user as Json).id).toBe(user.id);
    const session = cookiesOf(finished);
    expect((await json(await send("GET", "/me", session), 200)).amr).toEqual(["pwd", "hwk"]);
    expect((await storedPasskey(passkeyId)).last_used_at).toBeInstanceOf(Date);
  });

  test("a passkey of user A cannot finish user B's pending sign-in", async () => {
    const a = await userWithPasskey();
    const b = await userWithPasskey();
    const { cookie: bPending } = await logIn(b.user);
    const { cookie: aPending } = await logIn(a.user);
    const failures = () =>
      count(sql.unsafe`SELECT failed_login_attempts FROM users WHERE id = ${b.user.id}`);

    // A signs B's challenge with A's passkey.
    const bOptions = await json<Options>(await post("/auth/mfa/passkey/options", bPending), 200);
    const signedByA = await post("/auth/mfa", bPending, {
      passkey: a.authenticator.assert(bOptions),
    });
    expect((await json(signedByA, 401)).code).toBe("mfa_code_invalid");
    expect(await failures()).toBe(1);
    // A's own challenge and passkey, presented for B's pending sign-in.
    const aOptions = await json<Options>(await post("/auth/mfa/passkey/options", aPending), 200);
    const aAnswer = a.authenticator.assert(aOptions);
    expect((await post("/auth/mfa", bPending, { passkey: aAnswer })).status).toBe(401);
    expect(await liveSessions(b.user.id)).toBe(0);
    expect(
      (await eventsOf(b.user.id, "mfa.challenge_failed")).map((e) => e.failure_reason),
    ).toEqual(["bad_passkey", "bad_passkey"]);

    // B's pending sign-in is still there for B's own passkey.
    const again = await json<Options>(await post("/auth/mfa/passkey/options", bPending), 200);
    const finished = await post("/auth/mfa", bPending, { passkey: b.authenticator.assert(again) });
    expect(finished.status).toBe(200);
  });

  test("passkey options for a second factor need a live pending sign-in", async () => {
    const answer = await json(await post("/auth/mfa/passkey/options", ""), 401);
    expect(answer.code).toBe("mfa_sign_in_expired");
    const forged = await post("/auth/mfa/passkey/options", `${pendingCookie}=forged`);
    expect(forged.status).toBe(401);
  });
});

describe("the pages", () => {
  test("the second-factor page offers the factors the user has: a passkey-only user gets the passkey button", async () => {
    const { user } = await userWithPasskey();
    const { cookie } = await logIn(user);
    const html = await (await app.request("/auth/mfa", { headers: { cookie } })).text();
    expect(html).toContain('data-passkey-ceremony="second-factor"');
    expect(html).toContain('<script src="/assets/passkey-ceremonies.js"');
    expect(html).not.toContain('name="code"');
    expect(html).not.toContain('name="recovery_code"');

    const totpOnly = await passwordUser();
    const { cookie: session } = await logIn(totpOnly);
    const started = await json<{ secret: string }>(await post("/me/mfa/totp", session), 200);
    await json(
      await post("/me/mfa/totp/confirm", session, { code: totpCode(started.secret, stepNow()) }),
      200,
    );
    const { cookie: pending } = await logIn(totpOnly);
    const totpPage = await (
      await app.request("/auth/mfa", { headers: { cookie: pending } })
    ).text();
    expect(totpPage).toContain('name="code"');
    expect(totpPage).toContain('name="recovery_code"');
    expect(totpPage).not.toContain("data-passkey-ceremony");
    expect(totpPage).not.toContain("<script");
  });

  test("the passkeys page lists the user's passkeys, and sends a visitor without a session to sign in", async () => {
    const anonymous = await app.request("/account/passkeys", { redirect: "manual" });
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get("location")).toBe("/?redirect_to=%2Faccount%2Fpasskeys");

    const user = await passwordUser();
    const { cookie } = await logIn(user);
    await register(cookie, new TestAuthenticator(origin), "<b>Work</b> key");
    const page = await app.request("/account/passkeys?notice=added", { headers: { cookie } });
    expect(page.headers.get("cache-control")).toBe("no-store");
    const html = await page.text();
    expect(html).toContain("&lt;b&gt;Work&lt;/b&gt; key");
    expect(html).toContain("Passkey added.");
    expect(html).toContain("data-passkey-register");
    const unknownNotice = await app.request("/account/passkeys?notice=constructor", {
      headers: { cookie },
    });
    expect(await unknownNotice.text()).not.toContain('class="notice"');
  });

  test("the passkey scripts are served as JavaScript, revalidated by their ETag", async () => {
    for (const path of ["/assets/simplewebauthn-browser.js", "/assets/passkey-ceremonies.js"]) {
      const script = await app.request(path);
      expect(script.status).toBe(200);
      expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
      expect(await script.text()).toContain("SimpleWebAuthnBrowser");
      const etag = script.headers.get("etag") ?? "";
      const again = await app.request(path, { headers: { "if-none-match": etag } });
      expect(again.status).toBe(304);
    }
  });
});

describe("bad input", () => {
  test("every passkey route answers malformed input with a 400 problem and writes nothing", async () => {
    const { user, authenticator } = await userWithPasskey();
    const { cookie: pending } = await logIn(user);
    const other = await passwordUser();
    const { cookie: session } = await logIn(other);
    const options = await json<Options>(await post("/auth/passkey/options", ""), 200);
    const good = authenticator.assert(options);
    const cases: [string, string, unknown][] = [
      ["/auth/passkey/verify", "", {}],
      ["/auth/passkey/verify", "", { passkey: "a string" }],
      ["/auth/passkey/verify", "", { passkey: { ...good, id: "not base64url!" } }],
      ["/auth/passkey/verify", "", { passkey: { ...good, type: "password" } }],
      [
        "/auth/passkey/verify",
        "",
        { passkey: { ...good, response: { ...good.response, signature: "" } } },
      ],
      ["/auth/passkey/verify", "", { passkey: { ...good, id: "A".repeat(5000) } }],
      ["/auth/mfa", pending, { passkey: good, code: "123456" }],
      ["/auth/mfa", pending, { passkey: { ...good, response: null } }],
      ["/me/passkeys/verify", session, { name: "Laptop" }],
      ["/me/passkeys/verify", session, { name: "", passkey: authenticator.register(options) }],
      [
        "/me/passkeys/verify",
        session,
        { name: "x".repeat(65), passkey: authenticator.register(options) },
      ],
      [
        "/me/passkeys/verify",
        session,
        { name: "bell\u0007", passkey: authenticator.register(options) },
      ],
      ["/me/passkeys/verify", session, { name: "Laptop", passkey: { id: "AAAA" } }],
    ];
    const before = await allRows();
    for (const [path, cookie, body] of cases) {
      const answer = await post(path, cookie, body);
      const at = `${path} ${JSON.stringify(body).slice(0, 80)}`;
      expect(`${at} ${answer.status}`).toBe(`${at} 400`);
      expect(answer.headers.get("content-type")).toContain("application/problem+json");
      expect(((await answer.json()) as Json).code).toBe("validation_failed");
    }
    const malformed = await app.request("/auth/passkey/verify", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{",
    });
    expect(((await json(malformed, 400)) as Json).code).toBe("malformed_json");
    expect(await allRows()).toEqual(before);
    // The well-formed answer, untouched by the refusals, still signs in.
    expect((await post("/auth/passkey/verify", "", { passkey: good })).status).toBe(200);
  });

  test("a malformed passkey id in DELETE is a 404, like a missing one", async () => {
    const user = await passwordUser();
    const { cookie } = await logIn(user);
    const answer = await json(await send("DELETE", "/me/passkeys/not-a-uuid", cookie), 404);
    expect(answer.code).toBe("passkey_not_found");
  });
});

describe("passkeys as second factors, to webhooks", () => {
  test("adding and removing a passkey are reported as mfa.enabled and mfa.disabled, method passkey", async () => {
    const endpoint = await plantWebhookEndpoint(pool, app.config, {
      url: "https://hooks.example.com/gatehouse",
      events: ["mfa.enabled", "mfa.disabled"],
      secret: newWebhookSecret(),
      createdBy: null,
    });
    const user = await passwordUser();
    const { cookie } = await logIn(user);
    const { created } = await register(cookie, new TestAuthenticator(origin));
    expect((await send("DELETE", `/me/passkeys/${created.id}`, cookie)).status).toBe(204);
    const queued = (await pool.any(sql.unsafe`
      SELECT event_type, payload FROM webhook_deliveries
      WHERE endpoint_id = ${endpoint.id} AND payload -> 'data' ->> 'user_id' = ${user.id}
      ORDER BY created_at, id`)) as readonly { event_type: string; payload: Json }[];
    expect(queued.map((d) => [d.event_type, (d.payload.data as Json).method])).toEqual([
      ["mfa.enabled", "passkey"],
      ["mfa.disabled", "passkey"],
    ]);
    expect(queued.map((d) => (d.payload.data as Json).passkey_id)).toEqual([
      created.id,
      created.id,
    ]);
  });

  test("the account page names a passkey added or removed as such", async () => {
    const user = await passwordUser();
    const { cookie } = await logIn(user);
    const { created } = await register(cookie, new TestAuthenticator(origin));
    expect((await send("DELETE", `/me/passkeys/${created.id}`, cookie)).status).toBe(204);
    const page = await app.request("/", { headers: { cookie, "x-forwarded-for": nextIp() } });
    const html = await page.text();
    expect(html).toContain("<strong>Passkey added</strong>");
    expect(html).toContain("<strong>Passkey removed</strong>");
    expect(html).not.toContain("Authenticator app turned");
  });
});
