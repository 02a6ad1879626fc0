import { afterAll, describe, expect, test } from "bun:test";
import { generateKeyPairSync } from "node:crypto";
import { SignJWT } from "jose";
import { sql } from "slonik";
import { startTestApp } from "./support/app.ts";
import { createTestDatabase } from "./support/database.ts";
import { signedInUser } from "./support/sign-in.ts";
import { startTestSmtpServer, tokenFromMail } from "./support/smtp.ts";

// What apps behind Gatehouse are told about a user's address: only a
// verified one is an identity (X-Auth-Email, the access token's `email`), and
// every refusal of /auth/verify says why in X-Auth-Reason.

const signer = generateKeyPairSync("ed25519").privateKey;
const kid = "identity-test";
const db = await createTestDatabase();
const { pool } = db;
const smtp = await startTestSmtpServer();
const app = await startTestApp(pool, {
  SMTP_URL: smtp.url,
  JWT_SIGNING_KEYS: JSON.stringify({ ...signer.export({ format: "jwk" }), kid }),
});
afterAll(async () => {
  await app.close();
  await smtp.close();
  await db.drop();
});

const password = "correct horse battery staple";
const admin = await signedInUser(pool, app.config, { role: "admin", isWhitelisted: true });
const json = { "content-type": "application/json", origin: app.config.http.PUBLIC_URL };

const verify = (headers: Record<string, string>, query = "") =>
  app.request(`/auth/verify${query}`, { headers, redirect: "manual" });

function decodePayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString());
}

async function accessTokenFor(cookie: string): Promise<string> {
  const response = await app.request("/auth/token/session", {
    method: "POST",
    headers: { cookie, origin: app.config.http.PUBLIC_URL },
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

describe("an unverified address is not an identity", () => {
  test("an approved user who never verified ceo@ passes /auth/verify without X-Auth-Email, then with it once verified", async () => {
    const email = "ceo@example.com";
    const signup = await app.request("/auth/signup", {
      method: "POST",
      headers: json,
      body: JSON.stringify({ email, password }),
    });
    expect(signup.status).toBe(201);
    const mail = await smtp.waitForMail(email, /Confirm/);
    const login = await app.request("/auth/login", {
      method: "POST",
      headers: json,
      body: JSON.stringify({ email, password }),
    });
    expect(login.status).toBe(200);
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const userId = ((await login.json()) as { user: { id: string } }).user.id;
    const approve = await app.request(`/admin/users/${userId}`, {
      method: "PATCH",
      headers: { ...json, cookie: admin.cookie },
      body: JSON.stringify({ is_whitelisted: true }),
    });
    expect(approve.status).toBe(200);

    const unverified = await verify({ cookie });
    expect(unverified.status).toBe(200);
    expect(unverified.headers.get("x-auth-user-id")).toBe(userId);
    expect(unverified.headers.get("x-auth-email")).toBe("");
    expect(unverified.headers.get("x-auth-email-verified")).toBe("false");

    const confirm = await app.request("/auth/email/verify", {
      method: "POST",
      headers: { ...json, cookie },
      body: JSON.stringify({ token: tokenFromMail(mail, "/auth/email/verify") }),
    });
    expect(confirm.status).toBe(200);
    const verified = await verify({ cookie });
    expect(verified.status).toBe(200);
    expect(verified.headers.get("x-auth-email")).toBe(email);
    expect(verified.headers.get("x-auth-email-verified")).toBe("true");
  });

  test("a bearer caller's headers follow the same rule", async () => {
    const unverified = await signedInUser(pool, app.config, {
      isWhitelisted: true,
      emailVerified: false,
    });
    const token = await accessTokenFor(unverified.cookie);
    const answer = await verify({ authorization: `Bearer ${token}` });
    expect(answer.status).toBe(200);
    expect(answer.headers.get("x-auth-email")).toBe("");
    expect(answer.headers.get("x-auth-email-verified")).toBe("false");

    const verified = await signedInUser(pool, app.config, { isWhitelisted: true });
    const good = await verify({ authorization: `Bearer ${await accessTokenFor(verified.cookie)}` });
    expect(good.headers.get("x-auth-email")).toBe(verified.user.email);
    expect(good.headers.get("x-auth-email-verified")).toBe("true");
  });

  test("access tokens carry email only when it is verified, and email_verified always", async () => {
    const unverified = await signedInUser(pool, app.config, {
      isWhitelisted: true,
      emailVerified: false,
    });
    const claims = decodePayload(await accessTokenFor(unverified.cookie));
    expect(claims).not.toHaveProperty("email");
    expect(claims.email_verified).toBe(false);

    const verified = await signedInUser(pool, app.config, { isWhitelisted: true });
    const good = decodePayload(await accessTokenFor(verified.cookie));
    expect(good.email).toBe(verified.user.email);
    expect(good.email_verified).toBe(true);
  });

  test("refreshed access tokens follow the address's current state", async () => {
    const user = await signedInUser(pool, app.config, {
      isWhitelisted: true,
      emailVerified: false,
    });
    const pair = (await (
      await app.request("/auth/token/session", {
        method: "POST",
        headers: { cookie: user.cookie, origin: app.config.http.PUBLIC_URL },
      })
    ).json()) as { refresh_token: string };
    await pool.query(sql.unsafe`UPDATE users SET email_verified = true WHERE id = ${user.user.id}`);
    const refreshed = await app.request("/auth/token", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ grant_type: "refresh_token", refresh_token: pair.refresh_token }),
    });
    expect(refreshed.status).toBe(200);
    const claims = decodePayload(
      ((await refreshed.json()) as { access_token: string }).access_token,
    );
    expect(claims.email).toBe(user.user.email);
    expect(claims.email_verified).toBe(true);
  });

  test("the admin page's pending list marks an unverified address", async () => {
    const pending = await signedInUser(pool, app.config, { emailVerified: false });
    const confirmed = await signedInUser(pool, app.config);
    const page = await app.request("/admin", { headers: { cookie: admin.cookie } });
    expect(page.status).toBe(200);
    const html = await page.text();
    const rowOf = (email: string) =>
      html.split("<tr>").find((row) => row.includes(`>${email}</a>`)) ?? "";
    expect(rowOf(pending.user.email as string)).toContain("unverified");
    expect(rowOf(confirmed.user.email as string)).not.toBe("");
    expect(rowOf(confirmed.user.email as string)).not.toContain("unverified");
  });
});

describe("every refusal of /auth/verify names its X-Auth-Reason", () => {
  const reasonOf = async (headers: Record<string, string>, query = "") => {
    const answer = await verify(headers, query);
    return { status: answer.status, reason: answer.headers.get("x-auth-reason") };
  };

  test("no credentials, a forged cookie or a revoked session: unauthenticated (401, and 302 for a page)", async () => {
    expect(await reasonOf({})).toEqual({ status: 401, reason: "unauthenticated" });
    expect(await reasonOf({ accept: "text/html" })).toEqual({
      status: 302,
      reason: "unauthenticated",
    });
    const name = "gatehouse_session";
    expect(await reasonOf({ cookie: `${name}=${"A".repeat(43)}` })).toEqual({
      status: 401,
      reason: "unauthenticated",
    });
    const revoked = await signedInUser(pool, app.config, { isWhitelisted: true });
    await pool.query(sql.unsafe`
      UPDATE sessions SET revoked_at = now(), revoked_reason = 'logout' WHERE id = ${revoked.sessionId}`);
    expect(await reasonOf({ cookie: revoked.cookie })).toEqual({
      status: 401,
      reason: "unauthenticated",
    });
    expect(await reasonOf({ authorization: "Bearer not-a-token" })).toEqual({
      status: 401,
      reason: "unauthenticated",
    });
  });

  test("a session past its lifetime or idle timeout, or an access token past exp: expired", async () => {
    const old = await signedInUser(pool, app.config, { isWhitelisted: true });
    await pool.query(sql.unsafe`
      UPDATE sessions SET created_at = now() - interval '2 days', expires_at = now() - interval '1 second'
      WHERE id = ${old.sessionId}`);
    expect(await reasonOf({ cookie: old.cookie })).toEqual({ status: 401, reason: "expired" });
    expect(await reasonOf({ cookie: old.cookie, accept: "text/html" })).toEqual({
      status: 302,
      reason: "expired",
    });

    const idle = await signedInUser(pool, app.config, { isWhitelisted: true });
    await pool.query(sql.unsafe`
      UPDATE sessions SET last_seen_at = now() - interval '400 days' WHERE id = ${idle.sessionId}`);
    expect(await reasonOf({ cookie: idle.cookie })).toEqual({ status: 401, reason: "expired" });

    const holder = await signedInUser(pool, app.config, { isWhitelisted: true });
    const now = Math.floor(Date.now() / 1000);
    // An access token of the holder's session that expired ten minutes ago, signed with `key`.
    const expiredTokenSignedBy = (key: typeof signer) =>
      new SignJWT({ sid: holder.sessionId, role: "user" })
        .setProtectedHeader({ alg: "EdDSA", kid, typ: "at+jwt" })
        .setIssuer(app.config.http.PUBLIC_URL)
        .setAudience(app.config.http.PUBLIC_URL)
        .setSubject(holder.user.id)
        .setJti(crypto.randomUUID())
        .setIssuedAt(now - 3600)
        .setExpirationTime(now - 600)
        .sign(key);
    const stale = await expiredTokenSignedBy(signer);
    expect(await reasonOf({ authorization: `Bearer ${stale}` })).toEqual({
      status: 401,
      reason: "expired",
    });
    // The same token signed by someone else is not "expired" but unknown.
    const stranger = generateKeyPairSync("ed25519").privateKey;
    const forged = await expiredTokenSignedBy(stranger);
    expect(await reasonOf({ authorization: `Bearer ${forged}` })).toEqual({
      status: 401,
      reason: "unauthenticated",
    });
  });

  test("pending approval, inactive or locked, and an unmet requirement: 403 with their reason", async () => {
    const pending = await signedInUser(pool, app.config);
    expect(await reasonOf({ cookie: pending.cookie })).toEqual({
      status: 403,
      reason: "pending_approval",
    });
    for (const status of ["inactive", "locked"]) {
      const user = await signedInUser(pool, app.config, { isWhitelisted: true });
      await pool.query(sql.unsafe`UPDATE users SET status = ${status} WHERE id = ${user.user.id}`);
      expect(await reasonOf({ cookie: user.cookie })).toEqual({ status: 403, reason: "inactive" });
    }
    const member = await signedInUser(pool, app.config, { isWhitelisted: true });
    expect(await reasonOf({ cookie: member.cookie }, "?role=admin")).toEqual({
      status: 403,
      reason: "requirement_not_met",
    });
    expect(await reasonOf({ cookie: member.cookie }, "?group=ops")).toEqual({
      status: 403,
      reason: "requirement_not_met",
    });
    // An allowed answer has no reason.
    expect(await reasonOf({ cookie: member.cookie })).toEqual({ status: 200, reason: null });
  });
});
