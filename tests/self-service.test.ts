import { describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { sql } from "slonik";
import { insertAuditEvent } from "../sql/audit-events.ts";
import { insertOAuthAccount } from "../sql/oauth-accounts.ts";
import { insertRefreshToken } from "../sql/refresh-tokens.ts";
import { findUserById, type NewUser } from "../sql/users.ts";
import { appTestSetup } from "./support/app.ts";
import { jsonSender } from "./support/requests.ts";
import { linkTokenlessAccount, signedInUser } from "./support/sign-in.ts";

const { db, app } = await appTestSetup();

const approved = (overrides: Partial<NewUser> = {}) =>
  signedInUser(db.pool, app.config, { isWhitelisted: true, ...overrides });

const send = jsonSender(app);

const ciphertext = () =>
  `v1.k1.${randomBytes(12).toString("base64url")}.${randomBytes(24).toString("base64url")}`;

async function link(userId: string, provider: string) {
  return insertOAuthAccount(db.pool, {
    userId,
    provider,
    providerUserId: `${provider}-${randomBytes(4).toString("hex")}`,
    email: null,
    emailVerified: false,
    encryptedAccessToken: ciphertext(),
    encryptedRefreshToken: ciphertext(),
    tokenType: "bearer",
    scope: "read:user",
    expiresAt: null,
  });
}

/** A user whose only sign-in methods are the given providers (no password). */
/** How many provider accounts a user has linked. */
const linkedAccounts = (userId: string) =>
  db.pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM oauth_accounts WHERE user_id = ${userId}`);

async function providerOnlyUser(providers: string[]) {
  return db.pool.transaction(async (tx) => {
    const made = await signedInUser(tx as never, app.config, {
      isWhitelisted: true,
      passwordHash: null,
    });
    for (const provider of providers) {
      await linkTokenlessAccount(tx, {
        userId: made.user.id,
        provider,
        providerUserId: `${provider}-${randomBytes(4).toString("hex")}`,
        email: null,
        emailVerified: false,
      });
    }
    return made;
  });
}

describe("PATCH /me", () => {
  test("updates name, username and avatar, and clears them with null", async () => {
    const { user, cookie } = await approved();
    const username = `ada_${randomBytes(3).toString("hex")}`;
    const response = await send("PATCH", "/me", cookie, {
      full_name: "Ada Lovelace",
      username,
      avatar_url: "https://example.com/ada.png",
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      full_name: "Ada Lovelace",
      username,
      avatar_url: "https://example.com/ada.png",
    });
    await send("PATCH", "/me", cookie, { avatar_url: null });
    expect(await findUserById(db.pool, user.id)).toMatchObject({
      full_name: "Ada Lovelace",
      avatar_url: null,
    });
  });

  test("a username someone else has is a 409 and changes nothing", async () => {
    const other = await approved({ username: `taken_${randomBytes(3).toString("hex")}` });
    const { user, cookie } = await approved();
    const response = await send("PATCH", "/me", cookie, {
      full_name: "Changed",
      username: other.user.username?.toUpperCase(),
    });
    expect(response.status).toBe(409);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect((await findUserById(db.pool, user.id))?.full_name).toBeNull();
  });

  test("bad fields are 400 problems: non-https avatar, bad username, unknown field", async () => {
    const { user, cookie } = await approved();
    for (const body of [
      { avatar_url: "http://example.com/a.png" },
      { avatar_url: "javascript:alert(1)" },
      { username: "has space" },
      { full_name: "x".repeat(201) },
      { role: "admin" },
      { email: "new@example.com" },
    ]) {
      const response = await send("PATCH", "/me", cookie, body);
      expect(response.status).toBe(400);
    }
    expect(await findUserById(db.pool, user.id)).toEqual(user);
  });

  test("a user awaiting approval may not change their profile", async () => {
    const { cookie } = await signedInUser(db.pool, app.config);
    expect((await send("PATCH", "/me", cookie, { full_name: "x" })).status).toBe(403);
  });
});

describe("linked accounts", () => {
  test("GET /me/accounts lists the user's own providers, without tokens", async () => {
    const { user, cookie } = await approved();
    await link(user.id, "github");
    const other = await approved();
    await link(other.user.id, "google");
    const response = await send("GET", "/me/accounts", cookie);
    const body = (await response.json()) as { accounts: { provider: string }[] };
    expect(body.accounts.map((a) => a.provider)).toEqual(["github"]);
    expect(JSON.stringify(body)).not.toMatch(/"v[12]\./);
  });

  test("unlinking a provider when a password remains works", async () => {
    const { user, cookie } = await approved();
    await link(user.id, "github");
    expect((await send("DELETE", "/me/accounts/github", cookie)).status).toBe(204);
    expect(await linkedAccounts(user.id)).toBe(0);
  });

  test("unlinking the last way to sign in is a 409 and keeps the account", async () => {
    const { user, cookie } = await providerOnlyUser(["github", "google"]);
    expect((await send("DELETE", "/me/accounts/github", cookie)).status).toBe(204);
    const refused = await send("DELETE", "/me/accounts/google", cookie);
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({
      type: "urn:gatehouse:problem:last-sign-in-method",
    });
    expect(await linkedAccounts(user.id)).toBe(1);
  });

  test("two concurrent unlinks of the last two providers leave one", async () => {
    const { user, cookie } = await providerOnlyUser(["github", "google"]);
    const results = await Promise.all([
      send("DELETE", "/me/accounts/github", cookie),
      send("DELETE", "/me/accounts/google", cookie),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([204, 409]);
    expect(await linkedAccounts(user.id)).toBe(1);
  });

  test("another user's provider cannot be unlinked; unknown providers are 404", async () => {
    const victim = await approved();
    await link(victim.user.id, "discord");
    const { cookie } = await approved();
    expect((await send("DELETE", "/me/accounts/discord", cookie)).status).toBe(404);
    expect((await send("DELETE", "/me/accounts/myspace", cookie)).status).toBe(404);
    expect(await linkedAccounts(victim.user.id)).toBe(1);
  });
});

describe("GET /me/export", () => {
  test("contains the user's data and no secret: no hash, no token, no ciphertext", async () => {
    const { user, cookie, sessionId } = await approved();
    const account = await link(user.id, "github");
    await insertRefreshToken(db.pool, {
      tokenHash: createHash("sha256").update(randomBytes(32)).digest(),
      familyId: crypto.randomUUID(),
      parentId: null,
      userId: user.id,
      sessionId,
      expiresAt: new Date(Date.now() + 3_600_000),
      deviceInfo: "cli",
    });
    await insertAuditEvent(db.pool, {
      eventType: "login.succeeded",
      result: "success",
      userId: user.id,
    });
    const other = await approved();

    const response = await send("GET", "/me/export", cookie);
    expect(response.status).toBe(200);
    const text = await response.text();
    const body = JSON.parse(text);
    expect(body.profile).toMatchObject({ id: user.id, email: user.email, has_password: true });
    expect(body.linked_accounts).toEqual([
      expect.objectContaining({ provider: "github", provider_user_id: account.provider_user_id }),
    ]);
    expect(body.sessions.map((s: { id: string }) => s.id)).toEqual([sessionId]);
    expect(body.token_grants).toHaveLength(1);
    expect(body.audit_events.map((e: { event_type: string }) => e.event_type)).toContain(
      "login.succeeded",
    );

    expect(text).not.toContain("argon2");
    expect(text).not.toContain(account.access_token ?? "<none>");
    expect(text).not.toContain(account.refresh_token ?? "<none>");
    expect(text).not.toMatch(/token_hash|password_hash|access_token|refresh_token/);
    expect(text).not.toContain(cookie.split("=")[1] ?? "<none>");
    expect(text).not.toContain(other.user.id);
  });
});

describe("DELETE /me", () => {
  test("with a fresh sign-in: the account is anonymised, its data erased, audit rows kept", async () => {
    const { user, cookie } = await approved({ fullName: "Grace Hopper" });
    await link(user.id, "github");
    await insertAuditEvent(db.pool, {
      eventType: "login.succeeded",
      result: "success",
      userId: user.id,
      ip: "198.51.100.7",
      userAgent: "Safari",
      context: { email: user.email },
    });
    const response = await send("DELETE", "/me", cookie);
    expect(response.status).toBe(204);
    expect(response.headers.get("set-cookie")).toContain("Max-Age=0");

    expect(await findUserById(db.pool, user.id)).toMatchObject({
      status: "deleted",
      email: null,
      full_name: null,
      password_hash: null,
    });
    const leftovers = await db.pool.one(sql.unsafe`
      SELECT (SELECT count(*)::int FROM sessions WHERE user_id = ${user.id}) AS sessions,
             (SELECT count(*)::int FROM oauth_accounts WHERE user_id = ${user.id}) AS accounts`);
    expect(leftovers).toEqual({ sessions: 0, accounts: 0 });
    const events = (await db.pool.any(sql.unsafe`
      SELECT event_type, user_id, host(ip) AS ip, user_agent, context::text AS context
      FROM audit_events WHERE user_id = ${user.id} ORDER BY occurred_at`)) as readonly Record<
      string,
      unknown
    >[];
    expect(events.map((e) => e.event_type)).toEqual(["login.succeeded", "account.deleted"]);
    for (const event of events) {
      expect(event).toMatchObject({ user_id: user.id, ip: null, user_agent: null });
      expect(String(event.context)).not.toContain(user.email ?? "<none>");
    }
    expect((await send("GET", "/me", cookie)).status).toBe(401);
  });

  test("with an old session it is a 401 asking to confirm it is you, and nothing is deleted", async () => {
    const { user, cookie, sessionId } = await approved();
    await db.pool.query(sql.unsafe`
      UPDATE sessions SET created_at = now() - interval '11 minutes',
                          authenticated_at = now() - interval '11 minutes'
      WHERE id = ${sessionId}`);
    const response = await send("DELETE", "/me", cookie);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({
      type: "urn:gatehouse:problem:reauthentication-required",
      code: "reauth_required",
      reauth_required: true,
    });
    expect((await findUserById(db.pool, user.id))?.status).toBe("active");
  });

  test("anonymous and pending callers cannot delete an account", async () => {
    expect((await send("DELETE", "/me", null)).status).toBe(401);
    const pending = await signedInUser(db.pool, app.config);
    expect((await send("DELETE", "/me", pending.cookie)).status).toBe(403);
    expect((await findUserById(db.pool, pending.user.id))?.status).toBe("active");
  });
});

test("PATCH /me refuses a name PostgreSQL cannot store (NUL, lone surrogate) with a 400", async () => {
  const { user, cookie } = await approved();
  for (const full_name of ["a\u0000b", "\ud800", "bell\u0007"]) {
    const response = await send("PATCH", "/me", cookie, { full_name });
    expect(response.status).toBe(400);
  }
  expect((await findUserById(db.pool, user.id))?.full_name).toBe(user.full_name);
});
