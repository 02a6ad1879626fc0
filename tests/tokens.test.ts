import { afterAll, describe, expect, test } from "bun:test";
import { createPublicKey, generateKeyPairSync } from "node:crypto";
import { createRemoteJWKSet, jwtVerify, SignJWT } from "jose";
import { sql } from "slonik";
import { z } from "zod";
import { insertSessionAt } from "../sql/sessions.ts";
import { sessionCookieName } from "../src/http/session-cookie.ts";
import { hashSecret, newSessionSecret } from "../src/sessions/sessions.ts";
import { startTestApp } from "./support/app.ts";
import { createTestDatabase } from "./support/database.ts";
import { jsonSender } from "./support/requests.ts";
import { signedInUser } from "./support/sign-in.ts";

// The app signs with a key this file also holds, so tests can forge tokens
// that differ from a real one in exactly one respect.
const signer = generateKeyPairSync("ed25519").privateKey;
const kid = "test-key-1";
const db = await createTestDatabase();
const app = await startTestApp(db.pool, {
  JWT_SIGNING_KEYS: JSON.stringify({ ...signer.export({ format: "jwk" }), kid }),
});
afterAll(async () => {
  await app.close();
  await db.drop();
});

type Pair = { access_token: string; token_type: string; expires_in: number; refresh_token: string };

const approved = () => signedInUser(db.pool, app.config, { isWhitelisted: true });

/** CLI sign-in through the browser: the session cookie buys a token pair. */
async function pairFor(cookie: string): Promise<Pair> {
  const response = await app.request("/auth/token/session", {
    method: "POST",
    headers: { cookie, origin: app.config.http.PUBLIC_URL },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Pair;
}

const refresh = (refreshToken: string) =>
  app.request("/auth/token", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ grant_type: "refresh_token", refresh_token: refreshToken }),
  });

const withBearer = (path: string, token: string, init: RequestInit = {}) =>
  app.request(path, { ...init, headers: { ...init.headers, authorization: `Bearer ${token}` } });

const revoke = (token: string) =>
  app.request("/auth/revoke", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token }),
  });

const auditCount = (userId: string, eventType: string) =>
  db.pool.oneFirst(sql.type(z.object({ count: z.number() }))`
    SELECT count(*)::int AS count FROM audit_events
    WHERE user_id = ${userId} AND event_type = ${eventType}`);

/** A token signed with the app's own key, with chosen claims and header. */
async function forge(
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
  key: Parameters<SignJWT["sign"]>[0] = signer,
) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "EdDSA", kid, typ: "at+jwt", ...header } as never)
    .sign(key);
}

function decodePayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString());
}

describe("POST /auth/token/session", () => {
  test("turns a browser session into a pair whose access token works on /me", async () => {
    const { user, cookie } = await approved();
    const pair = await pairFor(cookie);
    expect(pair.token_type).toBe("Bearer");
    expect(pair.expires_in).toBe(600);
    expect(pair.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const me = await withBearer("/me", pair.access_token);
    expect(me.status).toBe(200);
    expect(((await me.json()) as { id: string }).id).toBe(user.id);
    expect(await auditCount(user.id, "token.issued")).toBe(1);
  });

  test("binds the pair to a new device session, not to the browser's", async () => {
    const { user, sessionId, cookie } = await approved();
    const pair = await pairFor(cookie);
    const sid = decodePayload(pair.access_token).sid as string;
    expect(sid).not.toBe(sessionId);
    const stored = await db.pool.one(
      sql.type(
        z.object({ user_id: z.string(), session_id: z.string().nullable(), family_id: z.string() }),
      )`SELECT user_id, session_id, family_id FROM refresh_tokens WHERE session_id = ${sid}`,
    );
    expect(stored.user_id).toBe(user.id);
  });

  test("refuses anonymous callers and bearer callers", async () => {
    const anonymous = await app.request("/auth/token/session", { method: "POST" });
    expect(anonymous.status).toBe(401);
    const { cookie } = await approved();
    const pair = await pairFor(cookie);
    const bearer = await withBearer("/auth/token/session", pair.access_token, { method: "POST" });
    expect(bearer.status).toBe(403);
  });

  test("a pair from an old browser session does not pass for a recent sign-in", async () => {
    const { user } = await approved();
    const secret = newSessionSecret();
    const signedInAt = new Date(Date.now() - 60 * 60_000);
    await insertSessionAt(db.pool, {
      tokenHash: hashSecret(secret),
      userId: user.id,
      createdAt: signedInAt,
      lastSeenAt: new Date(),
      expiresAt: new Date(Date.now() + 86_400_000),
      idleTimeoutSeconds: 86_400,
      ip: null,
      userAgent: null,
    });
    const pair = await pairFor(`${sessionCookieName(app.config)}=${secret}`);
    const deletion = await withBearer("/me", pair.access_token, { method: "DELETE" });
    expect(deletion.status).toBe(401);
    expect(await deletion.json()).toMatchObject({
      type: "urn:gatehouse:problem:reauthentication-required",
      code: "reauth_required",
    });
    const device = await db.pool.oneFirst(sql.type(z.object({ created_at: z.date() }))`
      SELECT created_at FROM sessions WHERE id = ${decodePayload(pair.access_token).sid as string}`);
    expect(device.getTime()).toBe(signedInAt.getTime());
  });

  test("refuses a cross-site request carrying the cookie", async () => {
    const { cookie } = await approved();
    const response = await app.request("/auth/token/session", {
      method: "POST",
      headers: { cookie, origin: "https://evil.example" },
    });
    expect(response.status).toBe(403);
  });
});

describe("refresh token rotation", () => {
  test("rotation issues a new pair and the old refresh token then fails", async () => {
    const { user, cookie } = await approved();
    const first = await pairFor(cookie);
    const rotated = await refresh(first.refresh_token);
    expect(rotated.status).toBe(200);
    expect(rotated.headers.get("cache-control")).toBe("no-store");
    const second = (await rotated.json()) as Pair;
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.access_token).not.toBe(first.access_token);
    expect((await withBearer("/me", second.access_token)).status).toBe(200);

    const again = await refresh(first.refresh_token);
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ error: "invalid_grant" });
    expect(await auditCount(user.id, "token.refreshed")).toBe(1);
  });

  test("reusing a used refresh token revokes the whole family and is audited", async () => {
    const { user, cookie } = await approved();
    const first = await pairFor(cookie);
    const second = (await (await refresh(first.refresh_token)).json()) as Pair;
    const third = (await (await refresh(second.refresh_token)).json()) as Pair;

    expect((await refresh(first.refresh_token)).status).toBe(400);
    // The newest token of the family, and the device's access token, stop too.
    expect((await refresh(third.refresh_token)).status).toBe(400);
    expect((await withBearer("/me", third.access_token)).status).toBe(401);
    expect(await auditCount(user.id, "token.reuse_detected")).toBe(1);
    const live = await db.pool.oneFirst(sql.type(z.object({ count: z.number() }))`
      SELECT count(*)::int AS count FROM refresh_tokens
      WHERE user_id = ${user.id} AND revoked_at IS NULL`);
    expect(live).toBe(0);
  });

  test("ten concurrent refreshes with one token: exactly one succeeds and the family is revoked", async () => {
    const { user, cookie } = await approved();
    const pair = await pairFor(cookie);
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => refresh(pair.refresh_token)),
    );
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 400, 400, 400, 400, 400, 400, 400, 400, 400]);
    const winner = (await responses.find((r) => r.status === 200)?.json()) as Pair;
    expect((await refresh(winner.refresh_token)).status).toBe(400);
    expect((await withBearer("/me", winner.access_token)).status).toBe(401);
    const live = await db.pool.oneFirst(sql.type(z.object({ count: z.number() }))`
      SELECT count(*)::int AS count FROM refresh_tokens
      WHERE user_id = ${user.id} AND revoked_at IS NULL`);
    expect(live).toBe(0);
  });

  test("concurrent refreshes through two replicas: exactly one succeeds", async () => {
    const other = await startTestApp(db.pool, {
      JWT_SIGNING_KEYS: JSON.stringify({ ...signer.export({ format: "jwk" }), kid }),
    });
    try {
      const { cookie } = await approved();
      const pair = await pairFor(cookie);
      const viaOther = (token: string) =>
        other.request("/auth/token", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ grant_type: "refresh_token", refresh_token: token }),
        });
      const responses = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          i % 2 ? viaOther(pair.refresh_token) : refresh(pair.refresh_token),
        ),
      );
      expect(responses.filter((r) => r.status === 200)).toHaveLength(1);
      expect(responses.filter((r) => r.status === 400)).toHaveLength(9);
    } finally {
      await other.close();
    }
  });

  test("two concurrent refreshes with one token: at most one succeeds", async () => {
    for (let round = 0; round < 5; round++) {
      const { cookie } = await approved();
      const pair = await pairFor(cookie);
      const [a, b] = await Promise.all([refresh(pair.refresh_token), refresh(pair.refresh_token)]);
      expect([a?.status, b?.status].sort()).toEqual([200, 400]);
    }
  });

  test("a family older than REFRESH_TOKEN_TTL is refused, however often it was refreshed", async () => {
    const shortLived = await startTestApp(db.pool, { REFRESH_TOKEN_TTL: "3s" });
    try {
      const { cookie } = await approved();
      const issued = await shortLived.request("/auth/token/session", {
        method: "POST",
        headers: { cookie, origin: shortLived.config.http.PUBLIC_URL },
      });
      let pair = (await issued.json()) as Pair;
      const redeem = (token: string) =>
        shortLived.request("/auth/token", {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: `grant_type=refresh_token&refresh_token=${token}`,
        });
      const early = await redeem(pair.refresh_token);
      expect(early.status).toBe(200);
      pair = (await early.json()) as Pair;
      await Bun.sleep(3100);
      const late = await redeem(pair.refresh_token);
      expect(late.status).toBe(400);
      expect(await late.json()).toMatchObject({ error: "invalid_grant" });
    } finally {
      await shortLived.close();
    }
  }, 15000);

  test("a refresh token of a deactivated user is refused", async () => {
    const { user, cookie } = await approved();
    const pair = await pairFor(cookie);
    await db.pool.query(sql.unsafe`UPDATE users SET status = 'inactive' WHERE id = ${user.id}`);
    expect((await refresh(pair.refresh_token)).status).toBe(400);
  });
});

describe("POST /auth/token input", () => {
  test("accepts a urlencoded form and JSON alike", async () => {
    const { cookie } = await approved();
    const pair = await pairFor(cookie);
    const form = await app.request("/auth/token", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: pair.refresh_token }),
    });
    expect(form.status).toBe(200);
    const next = (await form.json()) as Pair;
    const json = await refresh(next.refresh_token);
    expect(json.status).toBe(200);
    expect(await json.json()).toMatchObject({ token_type: "Bearer" });
  });

  test("bad input is a 400 with an RFC 6749 error, never a problem or a 5xx", async () => {
    const post = (body: string, type = "application/json") =>
      app.request("/auth/token", { method: "POST", headers: { "content-type": type }, body });
    const cases: [Response, string][] = [
      [await post("{}"), "invalid_request"],
      [await post("not json"), "invalid_request"],
      [await post("[1,2]"), "invalid_request"],
      [await post("grant_type=refresh_token", "text/plain"), "invalid_request"],
      [await post(JSON.stringify({ grant_type: "refresh_token" })), "invalid_request"],
      [
        await post(JSON.stringify({ grant_type: "refresh_token", refresh_token: 7 })),
        "invalid_request",
      ],
      [await post(JSON.stringify({ grant_type: "client_credentials" })), "unsupported_grant_type"],
      [
        await post(JSON.stringify({ grant_type: "refresh_token", refresh_token: "nope" })),
        "invalid_grant",
      ],
      [
        await post(JSON.stringify({ grant_type: "refresh_token", refresh_token: "A".repeat(43) })),
        "invalid_grant",
      ],
    ];
    for (const [response, error] of cases) {
      expect(response.status).toBe(400);
      expect(response.headers.get("content-type")).toStartWith("application/json");
      const body = (await response.json()) as { error: string; error_description: string };
      expect(body.error).toBe(error);
      expect(body.error_description.length).toBeGreaterThan(0);
    }
  });
});

describe("POST /auth/revoke", () => {
  test("revoking a refresh token ends its family and the device's access token", async () => {
    const { user, cookie } = await approved();
    const pair = await pairFor(cookie);
    const response = await revoke(pair.refresh_token);
    expect(response.status).toBe(200);
    expect((await refresh(pair.refresh_token)).status).toBe(400);
    expect((await withBearer("/me", pair.access_token)).status).toBe(401);
    expect(await auditCount(user.id, "token.revoked")).toBe(1);
    // Revoking again, or presenting it to refresh, is no reuse alarm.
    expect((await revoke(pair.refresh_token)).status).toBe(200);
    expect(await auditCount(user.id, "token.reuse_detected")).toBe(0);
  });

  test("revoking an access token refuses it at once, before it expires", async () => {
    const { user, cookie } = await approved();
    const pair = await pairFor(cookie);
    expect((await withBearer("/me", pair.access_token)).status).toBe(200);
    expect((await revoke(pair.access_token)).status).toBe(200);
    expect((await withBearer("/me", pair.access_token)).status).toBe(401);
    const denied = await db.pool.one(sql.type(
      z.object({ user_id: z.string().nullable(), expires_at: z.date() }),
    )`SELECT user_id, expires_at FROM revoked_access_tokens
      WHERE jti = ${decodePayload(pair.access_token).jti as string}`);
    expect(denied.user_id).toBe(user.id);
    expect(denied.expires_at.getTime()).toBeGreaterThan(Date.now());
    // The refresh token still works and brings a fresh access token.
    const next = (await (await refresh(pair.refresh_token)).json()) as Pair;
    expect((await withBearer("/me", next.access_token)).status).toBe(200);
  });

  test("a revoked access token fails at /auth/verify before it expires", async () => {
    const { user, cookie } = await approved();
    const pair = await pairFor(cookie);
    const verify = () => withBearer("/auth/verify?mode=401", pair.access_token);
    const allowed = await verify();
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get("x-auth-user-id")).toBe(user.id);
    expect(allowed.headers.get("x-auth-role")).toBe("user");
    expect((await revoke(pair.access_token)).status).toBe(200);
    expect((await verify()).status).toBe(401);
  });

  test("BEARER_CHECK_CACHE_MS is gone: a token revoked just after a check is refused at once, not after that delay", async () => {
    const lagging = await startTestApp(db.pool, {
      JWT_SIGNING_KEYS: JSON.stringify({ ...signer.export({ format: "jwk" }), kid }),
      BEARER_CHECK_CACHE_MS: "3000",
    });
    try {
      const { cookie } = await approved();
      const pair = await pairFor(cookie);
      const verify = () =>
        lagging.request("/auth/verify?mode=401", {
          headers: { authorization: `Bearer ${pair.access_token}` },
        });
      expect((await verify()).status).toBe(200);
      expect((await revoke(pair.access_token)).status).toBe(200);
      expect((await verify()).status).toBe(401);
    } finally {
      await lagging.close();
    }
  });

  test("answers 200 for unknown, forged or malformed tokens and 400 without a token", async () => {
    for (const token of ["A".repeat(43), "x.y.z", "whatever"]) {
      expect((await revoke(token)).status).toBe(200);
    }
    const json = await app.request("/auth/revoke", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: "A".repeat(43), token_type_hint: "refresh_token" }),
    });
    expect(json.status).toBe(200);
    const missing = await app.request("/auth/revoke", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ error: "invalid_request" });
  });
});

describe("access token verification", () => {
  test("another service verifies our token with nothing but the JWKS URL", async () => {
    const { user, cookie } = await approved();
    const pair = await pairFor(cookie);
    const jwks = await app.request("/.well-known/jwks.json");
    expect(jwks.headers.get("cache-control")).toContain("max-age=");
    expect(jwks.headers.get("access-control-allow-origin")).toBe("*");
    const { keys } = (await jwks.json()) as { keys: Record<string, unknown>[] };
    // Ours, then the OpenID provider's RS256 key for ID tokens.
    expect(keys.map((k) => k.alg)).toEqual(["EdDSA", "RS256"]);
    expect(keys[0]).toMatchObject({ kid, alg: "EdDSA", use: "sig", kty: "OKP", crv: "Ed25519" });
    for (const key of keys) expect(key).not.toHaveProperty("d");

    const remote = createRemoteJWKSet(new URL("/.well-known/jwks.json", app.url));
    const { payload, protectedHeader } = await jwtVerify(pair.access_token, remote, {
      issuer: app.config.http.PUBLIC_URL,
      audience: app.config.http.PUBLIC_URL,
    });
    expect(protectedHeader).toMatchObject({ alg: "EdDSA", kid, typ: "at+jwt" });
    expect(payload.sub).toBe(user.id);
    expect(payload.role).toBe("user");
    expect(typeof payload.sid).toBe("string");
    expect(typeof payload.jti).toBe("string");
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(600);
  });

  test("a token differing from a good one in one respect is refused with 401", async () => {
    const { user, cookie } = await approved();
    const pair = await pairFor(cookie);
    const good = decodePayload(pair.access_token);
    expect((await withBearer("/me", await forge(good))).status).toBe(200);

    const [header, payload, signature] = pair.access_token.split(".") as [string, string, string];
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const otherKey = generateKeyPairSync("ed25519").privateKey;
    const publicPem = createPublicKey(signer).export({ format: "pem", type: "spki" }).toString();
    const publicJwk = JSON.stringify(createPublicKey(signer).export({ format: "jwk" }));
    const now = Math.floor(Date.now() / 1000);
    const someoneElse = await approved();

    const forged: Record<string, string> = {
      "changed payload": `${header}.${b64({ ...good, role: "admin" })}.${signature}`,
      "alg none": `${b64({ alg: "none", typ: "at+jwt", kid })}.${payload}.`,
      "signed by another key under our kid": await forge(good, {}, otherKey),
      "unknown kid": await forge(good, { kid: "someone-else" }, otherKey),
      "no kid": await forge(good, { kid: undefined }),
      "HS256 keyed with our public PEM": await forge(
        good,
        { alg: "HS256" },
        new TextEncoder().encode(publicPem),
      ),
      "HS256 keyed with our public JWK": await forge(
        good,
        { alg: "HS256" },
        new TextEncoder().encode(publicJwk),
      ),
      "wrong aud": await forge({ ...good, aud: "https://other.example" }),
      "wrong iss": await forge({ ...good, iss: "https://other.example" }),
      expired: await forge({ ...good, iat: now - 3600, exp: now - 120 }),
      "not an access token (typ)": await forge(good, { typ: "JWT" }),
      "unknown session": await forge({ ...good, sid: crypto.randomUUID() }),
      "an unknown sub": await forge({ ...good, sub: crypto.randomUUID() }),
      "someone else's sub": await forge({ ...good, sub: someoneElse.user.id }),
      "someone else's session": await forge({ ...good, sid: someoneElse.sessionId }),
      "malformed sid": await forge({ ...good, sid: "not-a-uuid" }),
      garbage: "abc.def.ghi",
    };
    for (const [name, token] of Object.entries(forged)) {
      const response = await withBearer("/me", token);
      expect({ name, status: response.status }).toEqual({ name, status: 401 });
      expect(response.headers.get("www-authenticate")).toContain('error="invalid_token"');
    }
    // None of them reached the user's record or changed it.
    expect((await withBearer("/me", pair.access_token)).status).toBe(200);
    expect(user.role).toBe("user");
  });

  test("a token within the clock-skew leeway past exp is still accepted", async () => {
    const { cookie } = await approved();
    const pair = await pairFor(cookie);
    const now = Math.floor(Date.now() / 1000);
    const token = await forge({
      ...decodePayload(pair.access_token),
      iat: now - 600,
      exp: now - 5,
    });
    expect((await withBearer("/me", token)).status).toBe(200);
  });

  test("a bad bearer token is not rescued by a good cookie", async () => {
    const { cookie } = await approved();
    const response = await app.request("/me", {
      headers: { cookie, authorization: "Bearer abc.def.ghi" },
    });
    expect(response.status).toBe(401);
  });

  test("bearer works on a gated route, and the gate still applies", async () => {
    const approvedUser = await approved();
    const approvedPair = await pairFor(approvedUser.cookie);
    expect((await withBearer("/me/accounts", approvedPair.access_token)).status).toBe(200);

    const pending = await signedInUser(db.pool, app.config);
    const pendingPair = await pairFor(pending.cookie);
    expect((await withBearer("/me", pendingPair.access_token)).status).toBe(200);
    expect((await withBearer("/me/accounts", pendingPair.access_token)).status).toBe(403);
  });

  test("deactivating a user stops their session and bearer token at once", async () => {
    const admin = await signedInUser(db.pool, app.config, { isWhitelisted: true, role: "admin" });
    const target = await approved();
    const pair = await pairFor(target.cookie);
    expect((await withBearer("/me", pair.access_token)).status).toBe(200);

    const patched = await jsonSender(app)("PATCH", `/admin/users/${target.user.id}`, admin.cookie, {
      status: "inactive",
    });
    expect(patched.status).toBe(200);
    expect((await withBearer("/me", pair.access_token)).status).toBe(401);
    expect((await app.request("/me", { headers: { cookie: target.cookie } })).status).toBe(401);
    expect((await refresh(pair.refresh_token)).status).toBe(400);
  });

  test("a user whose status changes outside the admin API is refused at once too", async () => {
    const { user, cookie } = await approved();
    const pair = await pairFor(cookie);
    for (const status of ["locked", "inactive"]) {
      await db.pool.query(sql.unsafe`UPDATE users SET status = ${status} WHERE id = ${user.id}`);
      expect((await withBearer("/me", pair.access_token)).status).toBe(401);
    }
    await db.pool.query(sql.unsafe`UPDATE users SET status = 'active' WHERE id = ${user.id}`);
    expect((await withBearer("/me", pair.access_token)).status).toBe(200);
  });

  test("signing out with a bearer token ends that device", async () => {
    const { cookie } = await approved();
    const pair = await pairFor(cookie);
    const logout = await withBearer("/auth/logout", pair.access_token, { method: "POST" });
    expect(logout.status).toBe(204);
    expect((await withBearer("/me", pair.access_token)).status).toBe(401);
    expect((await refresh(pair.refresh_token)).status).toBe(400);
    // The browser session it came from is untouched.
    expect((await app.request("/me", { headers: { cookie } })).status).toBe(200);
  });
});
