import { randomBytes } from "node:crypto";
import type { CommonQueryMethods } from "slonik";
import { upsertAllowlistRule } from "../../sql/allowlist-rules.ts";
import { insertAuditEventAt } from "../../sql/audit-events.ts";
import { insertOAuthAccount } from "../../sql/oauth-accounts.ts";
import { insertRefreshTokenAt } from "../../sql/refresh-tokens.ts";
import { denyAccessToken } from "../../sql/revoked-access-tokens.ts";
import { insertSessionAt } from "../../sql/sessions.ts";
import { insertVerificationTokenAt } from "../../sql/verification-tokens.ts";
import type { createTokenCipher } from "../keys/token-encryption.ts";
import { sealAccountTokens } from "../providers/provider-tokens.ts";
import { hashSecret } from "../sessions/sessions.ts";
import { seedDomain } from "./seed-people.ts";

// What the development users have besides their row: linked providers,
// sessions live, expired and revoked, refresh-token families, mail links,
// deny-listed access tokens, allowlist rules and two months of audit events.
// Each function writes one kind, in the seed's transaction.

/** The seeded user of a key of seed-people.ts. */
export type SeedIds = (key: string) => string;

const day = 86_400_000;
const hour = 3_600_000;
const at = (offsetMs: number) => new Date(Date.now() + offsetMs);
const secretHash = () => hashSecret(randomBytes(32).toString("base64url"));
const seedClient = { ip: "127.0.0.1", userAgent: "Mozilla/5.0 (seed)" };

export async function seedLinkedAccounts(
  tx: CommonQueryMethods,
  id: SeedIds,
  cipher: Awaited<ReturnType<typeof createTokenCipher>>,
): Promise<void> {
  for (const [key, provider, providerUserId, scope] of [
    ["github", "github", "583231", "read:user user:email read:org"],
    ["google", "google", "108234992310001", "openid email profile"],
  ] as const) {
    const accountId = crypto.randomUUID();
    await insertOAuthAccount(tx, {
      id: accountId,
      userId: id(key),
      provider,
      providerUserId,
      email: key === "github" ? `grace@${seedDomain}` : `gus@${seedDomain}`,
      emailVerified: true,
      ...(await sealAccountTokens(cipher, accountId, {
        accessToken: `${provider}-access-${randomBytes(12).toString("hex")}`,
        refreshToken: `${provider}-refresh-${randomBytes(12).toString("hex")}`,
      })),
      tokenType: "bearer",
      scope,
      expiresAt: at(8 * hour),
    });
  }
}

/** Sessions (live, expired, revoked) and refresh tokens (a rotated family, an expired one). */
export async function seedSessions(tx: CommonQueryMethods, id: SeedIds): Promise<void> {
  const session = (userId: string, createdAgo: number, ttl: number, revoked = false) =>
    insertSessionAt(tx, {
      tokenHash: secretHash(),
      userId,
      createdAt: at(-createdAgo),
      lastSeenAt: at(-Math.min(createdAgo, hour)),
      expiresAt: at(-createdAgo + ttl),
      idleTimeoutSeconds: 7 * 86_400,
      ...seedClient,
      revokedAt: revoked ? at(-hour) : null,
    });
  const aliceSession = await session(id("active"), hour, 30 * day);
  await session(id("admin"), 2 * hour, 30 * day);
  await session(id("github"), 3 * hour, 30 * day);
  await session(id("active"), 40 * day, 30 * day); // expired ten days ago
  await session(id("inactive"), 2 * day, 30 * day, true); // revoked on deactivation

  const refreshToken = (token: {
    familyId: string;
    parentId: string | null;
    userId: string;
    sessionId: string | null;
    issuedAgo: number;
    ttl: number;
    usedAgo?: number;
    deviceInfo: string;
  }) =>
    insertRefreshTokenAt(tx, {
      tokenHash: secretHash(),
      familyId: token.familyId,
      parentId: token.parentId,
      userId: token.userId,
      sessionId: token.sessionId,
      issuedAt: at(-token.issuedAgo),
      expiresAt: at(token.ttl - token.issuedAgo),
      usedAt: token.usedAgo === undefined ? null : at(-token.usedAgo),
      deviceInfo: token.deviceInfo,
    });
  const alice = { userId: id("active"), sessionId: aliceSession.id, ttl: 30 * day };
  const family = crypto.randomUUID();
  const cli = "gatehouse-cli (seed)";
  const used = await refreshToken({
    ...alice,
    familyId: family,
    parentId: null,
    issuedAgo: 2 * hour,
    usedAgo: hour,
    deviceInfo: cli,
  });
  await refreshToken({
    ...alice,
    familyId: family,
    parentId: used.id,
    issuedAgo: hour,
    deviceInfo: cli,
  });
  await refreshToken({
    familyId: crypto.randomUUID(),
    parentId: null,
    userId: id("admin"),
    sessionId: null,
    issuedAgo: 40 * day,
    ttl: 30 * day,
    deviceInfo: "expired (seed)",
  });
}

/** Mail links (pending, used, expired) and deny-listed access tokens (live, expired). */
export async function seedOneTimeTokens(tx: CommonQueryMethods, id: SeedIds): Promise<void> {
  for (const [key, purpose, createdAgo, ttl, usedAfter] of [
    ["unverified", "email_verification", hour, day, null],
    ["active", "password_reset", 3 * day, hour, 600_000],
    ["pending", "email_verification", 5 * day, day, null],
  ] as const) {
    await insertVerificationTokenAt(tx, {
      tokenHash: secretHash(),
      userId: id(key),
      purpose,
      createdAt: at(-createdAgo),
      expiresAt: at(-createdAgo + ttl),
      usedAt: usedAfter === null ? null : at(-createdAgo + usedAfter),
    });
  }
  for (const [name, expiresIn] of [
    ["live", 10 * 60_000],
    ["expired", -day],
  ] as const) {
    await denyAccessToken(tx, {
      jti: `seed-${name}-${randomBytes(6).toString("hex")}`,
      userId: id("active"),
      expiresAt: at(expiresIn),
    });
  }
}

export async function seedAllowlist(tx: CommonQueryMethods, id: SeedIds): Promise<void> {
  for (const [kind, value] of [
    ["email", `carol@${seedDomain}`],
    ["domain", seedDomain],
    ["github_org", "gatehouse-dev"],
    ["github_team", "gatehouse-dev/maintainers"],
  ] as const) {
    await upsertAllowlistRule(tx, { kind, value, createdBy: id("admin") });
  }
}

/** Two months of history, one event a day, and the burst of wrong passwords that locked Erin out. */
export async function seedAuditHistory(tx: CommonQueryMethods, id: SeedIds): Promise<void> {
  const event = (e: {
    occurredAgo: number;
    eventType: string;
    result: "success" | "failure";
    key: string;
    actorId?: string | null;
    failureReason: string | null;
  }) =>
    insertAuditEventAt(tx, {
      id: crypto.randomUUID(),
      occurredAt: at(-e.occurredAgo),
      eventType: e.eventType,
      result: e.result,
      userId: id(e.key),
      actorId: e.actorId ?? null,
      ...seedClient,
      failureReason: e.failureReason,
      context: { seed: true },
    });

  const kinds = [
    { eventType: "login.password", result: "success", key: "active" },
    {
      eventType: "login.password",
      result: "failure",
      key: "locked",
      failureReason: "bad_password",
    },
    { eventType: "login.oauth", result: "success", key: "github" },
    { eventType: "account.locked", result: "success", key: "locked" },
    { eventType: "user.signup", result: "success", key: "pending" },
    { eventType: "admin.user.deactivate", result: "success", key: "inactive" },
  ] as const;
  for (let daysAgo = 0; daysAgo < 60; daysAgo++) {
    const kind = kinds[daysAgo % kinds.length] as (typeof kinds)[number];
    await event({
      ...kind,
      occurredAgo: daysAgo * day + hour,
      actorId: kind.eventType.startsWith("admin.") ? id("admin") : null,
      failureReason: "failureReason" in kind ? kind.failureReason : null,
    });
  }

  for (const [hoursAgo, eventType, result] of [
    [4, "login.password", "failure"],
    [3, "login.password", "failure"],
    [2, "login.password", "failure"],
    [2, "account.locked", "success"],
  ] as const) {
    await event({
      occurredAgo: hoursAgo * hour,
      eventType,
      result,
      key: "locked",
      failureReason: result === "failure" ? "bad_password" : null,
    });
  }
}
