import { afterAll, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { sql } from "slonik";
import {
  deleteAllowlistRule,
  listAllowlistRules,
  upsertAllowlistRule,
} from "../sql/allowlist-rules.ts";
import { insertAuditEvent, listAuditEventsOfUser } from "../sql/audit-events.ts";
import {
  findOAuthAccount,
  insertOAuthAccount,
  listLinkedAccountsOfUser,
} from "../sql/oauth-accounts.ts";
import { hitRateLimitCounter } from "../sql/rate-limit-counters.ts";
import {
  consumeRefreshToken,
  findRefreshTokenByHash,
  insertRefreshToken,
  revokeRefreshTokenFamily,
} from "../sql/refresh-tokens.ts";
import { denyAccessToken } from "../sql/revoked-access-tokens.ts";
import { listAppliedMigrations } from "../sql/schema-migrations.ts";
import { findUnrevokedSessionsWithUsers } from "../sql/session-checks.ts";
import { insertSession, listLiveSessionsOfUser, revokeSession } from "../sql/sessions.ts";
import { applyAdministrativeChange } from "../sql/user-changes.ts";
import { findUserByEmail, findUserById, insertUser } from "../sql/users.ts";
import {
  consumeSignInCode,
  consumeVerificationToken,
  countWrongSignInCode,
  insertVerificationToken,
  invalidateUnusedTokensOf,
  type LinkPurpose,
  replaceSignInCode,
} from "../sql/verification-tokens.ts";
import { recordAudit } from "../src/audit.ts";
import { createTestDatabase, testLogger } from "./support/database.ts";
import { linkTokenlessAccount } from "./support/sign-in.ts";

const { pool, drop } = await createTestDatabase();
afterAll(drop);

const hash = () => createHash("sha256").update(randomBytes(32)).digest();
const inOneHour = () => new Date(Date.now() + 3_600_000);
const argon = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
let emailCounter = 0;
const newPasswordUser = (overrides: Partial<Parameters<typeof insertUser>[1]> = {}) =>
  insertUser(pool, {
    email: `person${++emailCounter}@example.com`,
    emailVerified: true,
    passwordHash: argon,
    ...overrides,
  });

describe("users", () => {
  test("a user round-trips through its row parser with timestamps as Dates", async () => {
    const created = await newPasswordUser({ fullName: "Ada Lovelace", username: "ada" });
    expect(created.created_at).toBeInstanceOf(Date);
    expect(created.password_changed_at).toBeInstanceOf(Date);
    expect(created).toMatchObject({
      role: "user",
      status: "active",
      is_whitelisted: false,
      full_name: "Ada Lovelace",
    });
    expect(await findUserById(pool, created.id)).toEqual(created);
    expect(await findUserByEmail(pool, created.email?.toUpperCase() ?? "")).toEqual(created);
  });

  test("role and whitelist changes are written and bump updated_at", async () => {
    const user = await newPasswordUser();
    await Bun.sleep(5);
    const admin = await applyAdministrativeChange(pool, user.id, { role: "admin" });
    const whitelisted = await applyAdministrativeChange(pool, user.id, { isWhitelisted: true });
    expect(admin?.role).toBe("admin");
    expect(whitelisted?.is_whitelisted).toBe(true);
    expect(whitelisted?.updated_at.getTime()).toBeGreaterThan(user.updated_at.getTime());
  });

  test("emails are unique regardless of case", async () => {
    await newPasswordUser({ email: "Case@Example.com" });
    expect(newPasswordUser({ email: "case@example.COM" })).rejects.toThrow();
  });

  test("a malformed email is refused by the database itself", async () => {
    expect(newPasswordUser({ email: "not-an-email" })).rejects.toMatchObject({
      constraint: "users_email_check",
    });
  });

  test("a user with neither a password nor a linked account cannot be committed", async () => {
    expect(newPasswordUser({ passwordHash: null })).rejects.toMatchObject({
      constraint: "users_have_a_sign_in_method",
    });
  });

  test("a user without a password commits when its first account is written in the same transaction", async () => {
    const user = await pool.transaction(async (tx) => {
      const u = await insertUser(tx, { email: "oauth-only@example.com", emailVerified: true });
      await linkTokenlessAccount(tx, { userId: u.id, providerUserId: "12345", email: u.email });
      return u;
    });
    expect((await findUserById(pool, user.id))?.password_hash).toBeNull();
  });
});

describe("oauth_accounts", () => {
  test("an account round-trips and is found by (provider, provider_user_id)", async () => {
    const user = await newPasswordUser();
    const account = await insertOAuthAccount(pool, {
      userId: user.id,
      provider: "google",
      providerUserId: "g-1",
      email: user.email,
      emailVerified: true,
      encryptedAccessToken: "v1.k1.aXY.Y2lwaGVy",
      encryptedRefreshToken: null,
      tokenType: "bearer",
      scope: "openid email",
      expiresAt: inOneHour(),
    });
    expect(await findOAuthAccount(pool, "google", "g-1")).toEqual(account);
    expect(await listLinkedAccountsOfUser(pool, user.id)).toEqual([
      expect.objectContaining({ provider: "google", provider_user_id: "g-1" }),
    ]);
  });

  test("a plaintext provider token is refused by the database", async () => {
    const user = await newPasswordUser();
    expect(
      insertOAuthAccount(pool, {
        userId: user.id,
        provider: "github",
        providerUserId: "plain",
        email: null,
        emailVerified: false,
        encryptedAccessToken: "gho_plaintexttoken",
        encryptedRefreshToken: null,
        tokenType: null,
        scope: null,
        expiresAt: null,
      }),
    ).rejects.toThrow();
  });
});

describe("sessions", () => {
  /** A session of a new user, live for an hour; `client` says where it was opened. */
  async function newSession(
    idleTimeoutSeconds: number,
    client: { ip: string | null; userAgent: string | null },
  ) {
    const user = await newPasswordUser();
    const tokenHash = hash();
    const session = await insertSession(pool, {
      tokenHash,
      userId: user.id,
      expiresAt: inOneHour(),
      idleTimeoutSeconds,
      ...client,
    });
    return { user, tokenHash, session };
  }

  test("a live session is found by its token hash and disappears when revoked", async () => {
    const { user, tokenHash, session } = await newSession(600, {
      ip: "2001:db8::1",
      userAgent: "test-agent",
    });
    expect(session).toMatchObject({ ip: "2001:db8::1", idle_timeout: 600, revoked_at: null });
    expect(await findUnrevokedSessionsWithUsers(pool, [tokenHash])).toMatchObject([
      { session_id: session.id, live: true },
    ]);
    expect(await listLiveSessionsOfUser(pool, user.id)).toEqual([session]);
    expect(await revokeSession(pool, session.id, "logout")).toBe(true);
    expect(await revokeSession(pool, session.id, "logout")).toBe(false);
    expect(await findUnrevokedSessionsWithUsers(pool, [tokenHash])).toEqual([]);
  });

  test("an idle session is no longer live", async () => {
    const { tokenHash, session } = await newSession(60, { ip: null, userAgent: null });
    await pool.query(sql.unsafe`
      UPDATE sessions SET last_seen_at = now() - interval '2 minutes' WHERE id = ${session.id}`);
    expect(await findUnrevokedSessionsWithUsers(pool, [tokenHash])).toMatchObject([
      { live: false },
    ]);
  });
});

describe("refresh_tokens", () => {
  test("a token is consumed once; a second consumption gets nothing; the family revokes together", async () => {
    const user = await newPasswordUser();
    const familyId = crypto.randomUUID();
    const tokenHash = hash();
    const token = await insertRefreshToken(pool, {
      tokenHash,
      familyId,
      parentId: null,
      userId: user.id,
      sessionId: null,
      expiresAt: inOneHour(),
      deviceInfo: "cli",
    });
    expect(await findRefreshTokenByHash(pool, tokenHash)).toEqual(token);
    const results = await Promise.all([
      consumeRefreshToken(pool, tokenHash, null),
      consumeRefreshToken(pool, tokenHash, null),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await revokeRefreshTokenFamily(pool, familyId)).toBe(1);
    expect((await findRefreshTokenByHash(pool, tokenHash))?.revoked_at).toBeInstanceOf(Date);
  });
});

describe("revoked_access_tokens", () => {
  test("a deny-listed jti is found, and deny-listing twice is harmless", async () => {
    const expiresAt = inOneHour();
    await denyAccessToken(pool, { jti: "jti-1", userId: null, expiresAt });
    await denyAccessToken(pool, { jti: "jti-1", userId: null, expiresAt });
    const denied = await pool.any(sql.unsafe`
      SELECT jti, expires_at FROM revoked_access_tokens WHERE jti IN ('jti-1', 'jti-2')`);
    expect(denied).toEqual([{ jti: "jti-1", expires_at: expiresAt }]);
  });
});

describe("verification_tokens", () => {
  /** A new token of `purpose` for `userId`, good for an hour: its hash. */
  const plantToken = async (userId: string, purpose: LinkPurpose) => {
    const tokenHash = hash();
    await insertVerificationToken(pool, { tokenHash, userId, purpose, expiresAt: inOneHour() });
    return tokenHash;
  };

  test("two concurrent uses of one token succeed exactly once", async () => {
    const user = await newPasswordUser();
    const tokenHash = await plantToken(user.id, "password_reset");
    const uses = await Promise.all(
      Array.from({ length: 5 }, () => consumeVerificationToken(pool, tokenHash, "password_reset")),
    );
    expect(uses.filter(Boolean)).toHaveLength(1);
  });

  test("a token is not usable for another purpose, and a newer token invalidates older ones", async () => {
    const user = await newPasswordUser();
    const tokenHash = await plantToken(user.id, "email_verification");
    expect(await consumeVerificationToken(pool, tokenHash, "password_reset")).toBeNull();
    expect(await invalidateUnusedTokensOf(pool, user.id, "email_verification")).toBe(1);
    expect(await consumeVerificationToken(pool, tokenHash, "email_verification")).toBeNull();
  });
});

describe("verification_tokens: email sign-in codes", () => {
  const liveCodes = (userId: string) =>
    pool.oneFirst(sql.unsafe`
      SELECT count(*)::int FROM verification_tokens
      WHERE user_id = ${userId} AND purpose = 'email_sign_in'`);

  test("two racing replacements leave one code per user, the other one dead", async () => {
    const user = await newPasswordUser();
    const hashes = [hash(), hash()];
    await Promise.all(
      hashes.map((codeHash) =>
        replaceSignInCode(pool, { codeHash, userId: user.id, expiresAt: inOneHour() }),
      ),
    );
    expect(await liveCodes(user.id)).toBe(1);
    const used = await Promise.all(hashes.map((h) => consumeSignInCode(pool, user.id, h)));
    expect(used.filter(Boolean)).toHaveLength(1);
  });

  test("the fifth wrong try uses the code up; a code is another user's never", async () => {
    const user = await newPasswordUser();
    const other = await newPasswordUser();
    const codeHash = hash();
    await replaceSignInCode(pool, { codeHash, userId: user.id, expiresAt: inOneHour() });
    expect(await consumeSignInCode(pool, other.id, codeHash)).toBeNull();
    for (let i = 1; i <= 5; i++) {
      const counted = await countWrongSignInCode(pool, user.id, 5);
      expect(counted?.failed_attempts).toBe(i);
      expect(counted?.used_at === null).toBe(i < 5);
    }
    expect(await countWrongSignInCode(pool, user.id, 5)).toBeNull();
    expect(await consumeSignInCode(pool, user.id, codeHash)).toBeNull();
    // A new code starts over.
    const fresh = await replaceSignInCode(pool, {
      codeHash,
      userId: user.id,
      expiresAt: inOneHour(),
    });
    expect(fresh).toMatchObject({ failed_attempts: 0, used_at: null });
    expect(await consumeSignInCode(pool, user.id, codeHash)).not.toBeNull();
  });
});

describe("allowlist_rules", () => {
  test("rules are stored lower-case, added once, listed and deleted", async () => {
    const first = await upsertAllowlistRule(pool, {
      kind: "domain",
      value: "Example.ORG",
      createdBy: null,
    });
    const again = await upsertAllowlistRule(pool, {
      kind: "domain",
      value: "example.org",
      createdBy: null,
    });
    expect(again).toEqual(first);
    expect(first.value).toBe("example.org");
    expect(await listAllowlistRules(pool)).toContainEqual(first);
    expect(await deleteAllowlistRule(pool, first.id)).toBe(true);
    expect(await listAllowlistRules(pool)).not.toContainEqual(first);
  });

  test("a malformed domain rule is refused by the database", async () => {
    expect(
      upsertAllowlistRule(pool, { kind: "domain", value: "not a domain", createdBy: null }),
    ).rejects.toThrow();
  });
});

describe("audit_events", () => {
  test("an event round-trips with its context, newest first", async () => {
    const userId = crypto.randomUUID();
    const first = await insertAuditEvent(pool, {
      eventType: "login.failed",
      result: "failure",
      userId,
      failureReason: "bad_password",
      ip: "192.0.2.7",
      context: { method: "password" },
    });
    const second = await insertAuditEvent(pool, {
      eventType: "login.succeeded",
      result: "success",
      userId,
    });
    expect(first).toMatchObject({
      ip: "192.0.2.7",
      context: { method: "password" },
      failure_reason: "bad_password",
    });
    expect(await listAuditEventsOfUser(pool, userId)).toEqual([second, first]);
  });

  test("recordAudit writes the event, and a failing write does not throw", async () => {
    const userId = crypto.randomUUID();
    await recordAudit(pool, testLogger, { eventType: "user.created", result: "success", userId });
    await recordAudit(pool, testLogger, { eventType: "NOT VALID", result: "success", userId });
    expect((await listAuditEventsOfUser(pool, userId)).map((e) => e.event_type)).toEqual([
      "user.created",
    ]);
  });

  test("events land in their month's partition, not the default one", async () => {
    const event = await insertAuditEvent(pool, { eventType: "user.created", result: "success" });
    const partition = await pool.oneFirst(sql.unsafe`
      SELECT tableoid::regclass::text FROM audit_events WHERE id = ${event.id}`);
    expect(partition).toMatch(/^audit_events_y\d{4}m\d{2}$/);
  });
});

describe("rate_limit_counters", () => {
  test("concurrent hits from many clients are all counted", async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, () => hitRateLimitCounter(pool, "ip:192.0.2.1", 60_000)),
    );
    expect(results.map((r) => r.hits).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
  });

  test("an expired window starts again at one", async () => {
    await hitRateLimitCounter(pool, "ip:192.0.2.2", 60_000);
    await pool.query(
      sql.unsafe`UPDATE rate_limit_counters SET window_ends_at = now() - interval '1 second' WHERE key = 'ip:192.0.2.2'`,
    );
    expect((await hitRateLimitCounter(pool, "ip:192.0.2.2", 60_000)).hits).toBe(1);
  });
});

describe("schema migrations", () => {
  test("the applied migrations are listed with their times", async () => {
    const applied = await listAppliedMigrations(pool);
    expect(applied.length).toBeGreaterThan(0);
    expect(applied[0]?.run_on).toBeInstanceOf(Date);
  });
});
