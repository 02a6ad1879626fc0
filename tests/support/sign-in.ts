import { expect } from "bun:test";
import type { CommonQueryMethods, DatabasePool } from "slonik";
import { insertOAuthAccount, type NewOAuthAccount } from "../../sql/oauth-accounts.ts";
import { insertPasskey } from "../../sql/passkeys.ts";
import { insertUser, type NewUser, type User } from "../../sql/users.ts";
import type { Config } from "../../src/config/index.ts";
import { sessionCookieName } from "../../src/http/session-cookie.ts";
import { hashPassword } from "../../src/password/hashing.ts";
import { createSession } from "../../src/sessions/sessions.ts";
import type { TestApp } from "./app.ts";
import { nextIp } from "./requests.ts";

export const testPasswordHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
let counter = 0;

/**
 * A user with a live session, written through the same domain code a sign-in
 * uses, for tests of what comes after signing in. Returns the Cookie header.
 */
export async function signedInUser(
  pool: DatabasePool,
  config: Config,
  user: Partial<NewUser> = {},
  /** How the session's sign-in was proved (RFC 8176 names); one factor unless said. */
  { amr }: { amr?: readonly string[] } = {},
): Promise<{ user: User; sessionId: string; cookie: string }> {
  const created = await insertUser(pool, {
    email: `user${++counter}-${crypto.randomUUID().slice(0, 8)}@example.com`,
    emailVerified: true,
    passwordHash: testPasswordHash,
    ...user,
  });
  const { session, secret } = await createSession(pool, {
    userId: created.id,
    ...(amr ? { amr } : {}),
    ttlMs: config.session.SESSION_TTL,
    idleTtlMs: config.session.SESSION_IDLE_TTL,
    ip: "127.0.0.1",
    userAgent: "test",
  });
  return { user: created, sessionId: session.id, cookie: `${sessionCookieName(config)}=${secret}` };
}

export const knownPassword = "correct horse battery staple";

/** The second-factor grant as clients spell it (written out, so a renamed constant in src/ shows). */
export const mfaGrant = "urn:gatehouse:params:oauth:grant-type:mfa";

/**
 * An approved user with a verified address whose password is knownPassword
 * (no session); `fields` change any of that.
 */
export async function approvedPasswordUser(
  pool: DatabasePool,
  config: Pick<Config, "passwords">,
  fields: Partial<NewUser> = {},
): Promise<User> {
  return insertUser(pool, {
    email: `user${++counter}-${crypto.randomUUID().slice(0, 8)}@example.com`,
    emailVerified: true,
    isWhitelisted: true,
    passwordHash: await hashPassword(knownPassword, config.passwords),
    ...fields,
  });
}

/**
 * A passkey row as registration stores it, for tests that only need the user
 * to have one (its key signs nothing).
 */
export function plantPasskey(pool: DatabasePool, userId: string) {
  return insertPasskey(pool, {
    userId,
    credentialId: Buffer.from(crypto.randomUUID()),
    publicKey: Buffer.from("not a real key"),
    counter: 0,
    transports: ["internal"],
    deviceType: "multiDevice",
    backedUp: true,
    name: "Laptop",
  });
}

/**
 * A provider account linked to the user as a sign-in that kept no provider
 * tokens writes it: GitHub and a verified address unless `account` says
 * otherwise.
 */
export function linkTokenlessAccount(
  db: CommonQueryMethods,
  account: Pick<NewOAuthAccount, "userId" | "providerUserId" | "email"> & Partial<NewOAuthAccount>,
) {
  return insertOAuthAccount(db, {
    provider: "github",
    emailVerified: true,
    encryptedAccessToken: null,
    encryptedRefreshToken: null,
    tokenType: null,
    scope: null,
    expiresAt: null,
    ...account,
  });
}

/**
 * A secret that a sign-in still owing its second factor handed out opens
 * nothing: not as the session cookie, not as a bearer token, not as a
 * refresh token.
 */
export async function expectSecretOpensNothing(app: TestApp, secret: string) {
  const asSession = { cookie: `${sessionCookieName(app.config)}=${secret}` };
  expect((await app.request("/me", { headers: asSession })).status).toBe(401);
  expect((await app.request("/auth/verify", { headers: asSession })).status).toBe(401);
  const bearer = { authorization: `Bearer ${secret}` };
  expect((await app.request("/me", { headers: bearer })).status).toBe(401);
  expect((await app.request("/auth/verify", { headers: bearer })).status).toBe(401);
  const refreshed = await app.request("/auth/token", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "x-forwarded-for": nextIp() },
    body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: secret }),
  });
  expect(refreshed.status).toBe(400);
  expect(await refreshed.json()).toMatchObject({ error: "invalid_grant" });
}
