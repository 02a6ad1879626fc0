import { randomBytes } from "node:crypto";
import type { DatabasePool } from "slonik";
import { upsertAllowlistRule } from "../../sql/allowlist-rules.ts";
import { insertAuditEventAt } from "../../sql/audit-events.ts";
import { insertOAuthAccount } from "../../sql/oauth-accounts.ts";
import { insertRefreshTokenAt } from "../../sql/refresh-tokens.ts";
import { denyAccessToken } from "../../sql/revoked-access-tokens.ts";
import { insertSessionAt } from "../../sql/sessions.ts";
import {
  findUserByEmail,
  insertUser,
  type NewUser,
  setUserState,
  type UserStatus,
} from "../../sql/users.ts";
import { insertVerificationTokenAt } from "../../sql/verification-tokens.ts";
import { createTokenCipher, type EncryptionKey } from "../keys/token-encryption.ts";
import { sealAccountTokens } from "../providers/provider-tokens.ts";
import { hashSecret } from "../sessions/sessions.ts";

// Development data covering every user state. Everything is written in one
// transaction and only when the seed admin does not exist yet: a second run
// finds it and changes nothing, and a failed run leaves nothing half-done.

export const seedDomain = "gatehouse.test";
const seedAdminEmail = `admin@${seedDomain}`;

export class SeedRefused extends Error {
  override name = "SeedRefused";
}

export type SeedReport = {
  seeded: boolean;
  users: number;
  /** Sign-in passwords, only on the run that created the users. */
  passwords: { email: string; password: string }[];
};

type SeedUser = NewUser & {
  key: string;
  withPassword: boolean;
  state?: {
    status: UserStatus;
    lockedUntil?: Date;
    failedLoginAttempts?: number;
    lockoutCount?: number;
  };
};

const day = 86_400_000;
const hour = 3_600_000;
const at = (offsetMs: number) => new Date(Date.now() + offsetMs);
const secretHash = () => hashSecret(randomBytes(32).toString("base64url"));

export async function seedDevelopmentData({
  pool,
  nodeEnv,
  keys,
}: {
  pool: DatabasePool;
  nodeEnv: string;
  keys: readonly EncryptionKey[];
}): Promise<SeedReport> {
  if (nodeEnv === "production") {
    throw new SeedRefused("seed writes fake users and refuses to run with NODE_ENV=production");
  }
  const cipher = await createTokenCipher(keys);
  const people: SeedUser[] = [
    {
      key: "admin",
      email: seedAdminEmail,
      emailVerified: true,
      fullName: "Ada Admin",
      role: "admin",
      isWhitelisted: true,
      withPassword: true,
    },
    {
      key: "active",
      email: `alice@${seedDomain}`,
      emailVerified: true,
      fullName: "Alice Active",
      isWhitelisted: true,
      withPassword: true,
    },
    {
      key: "unverified",
      email: `bob@${seedDomain}`,
      emailVerified: false,
      fullName: "Bob Unverified",
      withPassword: true,
    },
    {
      key: "pending",
      email: `carol@${seedDomain}`,
      emailVerified: true,
      fullName: "Carol Pending",
      withPassword: true,
    },
    {
      key: "inactive",
      email: `dave@${seedDomain}`,
      emailVerified: true,
      fullName: "Dave Inactive",
      isWhitelisted: true,
      withPassword: true,
      state: { status: "inactive" },
    },
    {
      key: "locked",
      email: `erin@${seedDomain}`,
      emailVerified: true,
      fullName: "Erin Locked",
      isWhitelisted: true,
      withPassword: true,
      state: { status: "locked", lockedUntil: at(hour), failedLoginAttempts: 5, lockoutCount: 1 },
    },
    {
      key: "deleted",
      email: null,
      emailVerified: false,
      fullName: null,
      withPassword: false,
      state: { status: "deleted" },
    },
    {
      key: "github",
      email: `grace@${seedDomain}`,
      emailVerified: true,
      fullName: "Grace GitHub",
      username: "grace-gh",
      isWhitelisted: true,
      withPassword: false,
    },
    {
      key: "google",
      email: `gus@${seedDomain}`,
      emailVerified: true,
      fullName: "Gus Google",
      isWhitelisted: true,
      withPassword: true,
    },
  ];

  // Hashing is slow on purpose (argon2id): do it before the transaction opens.
  const passwords = new Map<string, string>();
  const hashes = new Map<string, string>();
  for (const person of people) {
    if (!person.withPassword || !person.email) continue;
    const password = `seed-${randomBytes(9).toString("base64url")}`;
    passwords.set(person.email, password);
    hashes.set(person.key, await Bun.password.hash(password, { algorithm: "argon2id" }));
  }

  return pool.transaction(async (tx) => {
    if (await findUserByEmail(tx, seedAdminEmail)) {
      return { seeded: false, users: people.length, passwords: [] };
    }
    const ids: Record<string, string> = {};
    for (const { key, withPassword: _, state, ...user } of people) {
      const created = await insertUser(tx, { ...user, passwordHash: hashes.get(key) ?? null });
      ids[key] = created.id;
      if (state) await setUserState(tx, created.id, state);
    }
    const id = (key: string) => ids[key] as string;

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

    const session = (userId: string, createdAgo: number, ttl: number, revoked = false) =>
      insertSessionAt(tx, {
        tokenHash: secretHash(),
        userId,
        createdAt: at(-createdAgo),
        lastSeenAt: at(-Math.min(createdAgo, hour)),
        expiresAt: at(-createdAgo + ttl),
        idleTimeoutSeconds: 7 * 86_400,
        ip: "127.0.0.1",
        userAgent: "Mozilla/5.0 (seed)",
        revokedAt: revoked ? at(-hour) : null,
      });
    const aliceSession = await session(id("active"), hour, 30 * day);
    await session(id("admin"), 2 * hour, 30 * day);
    await session(id("github"), 3 * hour, 30 * day);
    await session(id("active"), 40 * day, 30 * day); // expired ten days ago
    await session(id("inactive"), 2 * day, 30 * day, true); // revoked on deactivation

    const family = crypto.randomUUID();
    const used = await insertRefreshTokenAt(tx, {
      tokenHash: secretHash(),
      familyId: family,
      parentId: null,
      userId: id("active"),
      sessionId: aliceSession.id,
      issuedAt: at(-2 * hour),
      expiresAt: at(30 * day - 2 * hour),
      usedAt: at(-hour),
      deviceInfo: "gatehouse-cli (seed)",
    });
    await insertRefreshTokenAt(tx, {
      tokenHash: secretHash(),
      familyId: family,
      parentId: used.id,
      userId: id("active"),
      sessionId: aliceSession.id,
      issuedAt: at(-hour),
      expiresAt: at(30 * day - hour),
      deviceInfo: "gatehouse-cli (seed)",
    });
    await insertRefreshTokenAt(tx, {
      tokenHash: secretHash(),
      familyId: crypto.randomUUID(),
      parentId: null,
      userId: id("admin"),
      sessionId: null,
      issuedAt: at(-40 * day),
      expiresAt: at(-10 * day),
      deviceInfo: "expired (seed)",
    });

    await insertVerificationTokenAt(tx, {
      tokenHash: secretHash(),
      userId: id("unverified"),
      purpose: "email_verification",
      createdAt: at(-hour),
      expiresAt: at(23 * hour),
    });
    await insertVerificationTokenAt(tx, {
      tokenHash: secretHash(),
      userId: id("active"),
      purpose: "password_reset",
      createdAt: at(-3 * day),
      expiresAt: at(-3 * day + hour),
      usedAt: at(-3 * day + 600_000),
    });
    await insertVerificationTokenAt(tx, {
      tokenHash: secretHash(),
      userId: id("pending"),
      purpose: "email_verification",
      createdAt: at(-5 * day),
      expiresAt: at(-4 * day),
    });

    await denyAccessToken(tx, {
      jti: `seed-live-${randomBytes(6).toString("hex")}`,
      userId: id("active"),
      expiresAt: at(10 * 60_000),
    });
    await denyAccessToken(tx, {
      jti: `seed-expired-${randomBytes(6).toString("hex")}`,
      userId: id("active"),
      expiresAt: at(-day),
    });

    for (const [kind, value] of [
      ["email", `carol@${seedDomain}`],
      ["domain", seedDomain],
      ["github_org", "gatehouse-dev"],
      ["github_team", "gatehouse-dev/maintainers"],
    ] as const) {
      await upsertAllowlistRule(tx, { kind, value, createdBy: id("admin") });
    }

    // Two months of history: one event a day, alternating kinds.
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
      await insertAuditEventAt(tx, {
        id: crypto.randomUUID(),
        occurredAt: at(-daysAgo * day - hour),
        eventType: kind.eventType,
        result: kind.result,
        userId: id(kind.key),
        actorId: kind.eventType.startsWith("admin.") ? id("admin") : null,
        ip: "127.0.0.1",
        userAgent: "Mozilla/5.0 (seed)",
        failureReason: "failureReason" in kind ? kind.failureReason : null,
        context: { seed: true },
      });
    }

    // The last hours: a burst of wrong passwords that locked Erin out.
    for (const [hoursAgo, eventType, result] of [
      [4, "login.password", "failure"],
      [3, "login.password", "failure"],
      [2, "login.password", "failure"],
      [2, "account.locked", "success"],
    ] as const) {
      await insertAuditEventAt(tx, {
        id: crypto.randomUUID(),
        occurredAt: at(-hoursAgo * hour),
        eventType,
        result,
        userId: id("locked"),
        ip: "127.0.0.1",
        userAgent: "Mozilla/5.0 (seed)",
        failureReason: result === "failure" ? "bad_password" : null,
        context: { seed: true },
      });
    }

    return {
      seeded: true,
      users: people.length,
      passwords: [...passwords].map(([email, password]) => ({ email, password })),
    };
  });
}
