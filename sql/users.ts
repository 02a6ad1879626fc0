import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";

// The users table: its row, creating and finding a user, and the sign-in
// bookkeeping (failed and successful logins, rights a sign-in grants). Other
// statements on users: user-listing.ts, user-changes.ts, user-credentials.ts,
// user-approvals.ts.

export const userRoles = ["user", "admin"] as const;
export const userStatuses = ["active", "inactive", "locked", "denied", "deleted"] as const;

export const userRow = z.object({
  id: z.uuid(),
  email: z.string().nullable(),
  email_verified: z.boolean(),
  username: z.string().nullable(),
  full_name: z.string().nullable(),
  avatar_url: z.string().nullable(),
  password_hash: z.string().nullable(),
  role: z.enum(userRoles),
  status: z.enum(userStatuses),
  is_whitelisted: z.boolean(),
  failed_login_attempts: z.number().int(),
  lockout_count: z.number().int(),
  locked_until: z.date().nullable(),
  last_login_at: z.date().nullable(),
  password_changed_at: z.date().nullable(),
  tokens_valid_after: z.date().nullable(),
  consent_at: z.date().nullable(),
  /** When an administrator last set the role: sign-ins no longer grant it (ADMIN_EMAILS). */
  role_decided_at: z.date().nullable(),
  /** When an administrator last set is_whitelisted: allowlist rules no longer change it. */
  approval_decided_at: z.date().nullable(),
  /** The administrator who last set is_whitelisted (null: the command line, or not recorded). */
  approval_decided_by: z.uuid().nullable(),
  /** When the user was last let in (null while not approved, or not recorded). */
  approved_at: z.date().nullable(),
  /** The allowlist rule that approved the user; rules take back only what they gave. */
  approved_by_rule_id: z.uuid().nullable(),
  created_at: z.date(),
  updated_at: z.date(),
});
export type User = z.infer<typeof userRow>;
export type UserRole = User["role"];
export type UserStatus = User["status"];

/** Every column of userRow, for the other users modules (user-*.ts). */
export const userColumns = sql.fragment`
  id, email, email_verified, username, full_name, avatar_url, password_hash, role, status,
  is_whitelisted, failed_login_attempts, lockout_count, locked_until, last_login_at,
  password_changed_at, tokens_valid_after, consent_at, role_decided_at, approval_decided_at,
  approval_decided_by, approved_at, approved_by_rule_id, created_at, updated_at`;

export type NewUser = {
  email: string | null;
  emailVerified: boolean;
  username?: string | null;
  fullName?: string | null;
  avatarUrl?: string | null;
  passwordHash?: string | null;
  role?: UserRole;
  isWhitelisted?: boolean;
  /** The allowlist rule that approves the new user, if one does. */
  approvedByRuleId?: string | null;
  consentAt?: Date | null;
};

/** Inserts a user; a taken email or username raises slonik's UniqueIntegrityConstraintViolationError. */
export async function insertUser(db: CommonQueryMethods, user: NewUser): Promise<User> {
  return db.one(sql.type(userRow)`
    INSERT INTO users (email, email_verified, username, full_name, avatar_url, password_hash,
                       role, is_whitelisted, approved_by_rule_id, consent_at, password_changed_at)
    VALUES (${user.email}, ${user.emailVerified}, ${user.username ?? null}, ${user.fullName ?? null},
            ${user.avatarUrl ?? null}, ${user.passwordHash ?? null}, ${user.role ?? "user"},
            ${user.isWhitelisted ?? false}, ${user.isWhitelisted ? (user.approvedByRuleId ?? null) : null},
            ${user.consentAt ? sql.timestamp(user.consentAt) : null},
            ${user.passwordHash ? sql.fragment`now()` : null})
    RETURNING ${userColumns}`);
}

export async function findUserById(db: CommonQueryMethods, id: string): Promise<User | null> {
  return db.maybeOne(sql.type(userRow)`SELECT ${userColumns} FROM users WHERE id = ${id}`);
}

/**
 * The user, locked until the transaction ends: changes to one user's second
 * factors are taken one at a time, so two removals cannot each leave the
 * other as the last factor and both go through.
 */
export async function lockUserById(db: CommonQueryMethods, id: string): Promise<User | null> {
  return db.maybeOne(
    sql.type(userRow)`SELECT ${userColumns} FROM users WHERE id = ${id} FOR UPDATE`,
  );
}

export async function findUserByEmail(db: CommonQueryMethods, email: string): Promise<User | null> {
  return db.maybeOne(sql.type(userRow)`SELECT ${userColumns} FROM users WHERE email = ${email}`);
}

/** Puts a user into a given state at once (seed data; admin tooling). */
export async function setUserState(
  db: CommonQueryMethods,
  id: string,
  state: {
    status: UserStatus;
    lockedUntil?: Date | null;
    failedLoginAttempts?: number;
    lockoutCount?: number;
    lastLoginAt?: Date | null;
  },
): Promise<User | null> {
  return db.maybeOne(sql.type(userRow)`
    UPDATE users SET status = ${state.status},
      locked_until = ${state.lockedUntil ? sql.timestamp(state.lockedUntil) : null},
      failed_login_attempts = ${state.failedLoginAttempts ?? 0},
      lockout_count = ${state.lockoutCount ?? 0},
      last_login_at = ${state.lastLoginAt ? sql.timestamp(state.lastLoginAt) : null}
    WHERE id = ${id} RETURNING ${userColumns}`);
}

export const failedLoginRow = z.object({
  failed_login_attempts: z.number().int(),
  lockout_count: z.number().int(),
  locked_until: z.date().nullable(),
  just_locked: z.boolean(),
});
export type FailedLogin = z.infer<typeof failedLoginRow>;

/**
 * Counts a wrong password, in one statement so concurrent guesses are all
 * counted. The failure that reaches `maxFailures` locks the account for
 * `lockoutMs × 2^(earlier lockouts)`, capped at `maxLockoutMs`, and restarts
 * the count. Guesses during a lock are not counted (null): the lock already
 * stops them, and counting them would only lengthen it for the real owner.
 */
export async function recordFailedLogin(
  db: CommonQueryMethods,
  id: string,
  policy: { maxFailures: number; lockoutMs: number; maxLockoutMs: number },
): Promise<FailedLogin | null> {
  const reachesLimit = sql.fragment`failed_login_attempts + 1 >= ${policy.maxFailures}`;
  return db.maybeOne(sql.type(failedLoginRow)`
    UPDATE users SET
      failed_login_attempts = CASE WHEN ${reachesLimit} THEN 0 ELSE failed_login_attempts + 1 END,
      lockout_count = CASE WHEN ${reachesLimit} THEN lockout_count + 1 ELSE lockout_count END,
      locked_until = CASE WHEN ${reachesLimit}
        THEN now() + make_interval(secs => least(
          ${policy.lockoutMs / 1000}::float8 * power(2, least(lockout_count, 40)),
          ${policy.maxLockoutMs / 1000}::float8))
        ELSE locked_until END
    WHERE id = ${id} AND (locked_until IS NULL OR locked_until <= now())
    RETURNING failed_login_attempts, lockout_count, locked_until,
      (failed_login_attempts = 0 AND locked_until > now()) AS just_locked`);
}

/**
 * A successful login: clears the failure count and lockout history, stamps
 * last_login_at, and stores `rehashed` when the hash is still the one that
 * was verified (a concurrent password change wins). Null when the account
 * got locked in the meantime.
 */
export async function recordSuccessfulLogin(
  db: CommonQueryMethods,
  id: string,
  rehash: { verifiedHash: string; newHash: string } | null,
): Promise<User | null> {
  const hash = rehash
    ? sql.fragment`CASE WHEN password_hash = ${rehash.verifiedHash} THEN ${rehash.newHash}
                        ELSE password_hash END`
    : sql.fragment`password_hash`;
  return db.maybeOne(sql.type(userRow)`
    UPDATE users SET failed_login_attempts = 0, lockout_count = 0, locked_until = NULL,
      last_login_at = now(), password_hash = ${hash}
    WHERE id = ${id} AND (locked_until IS NULL OR locked_until <= now())
    RETURNING ${userColumns}`);
}

/** Stamps a successful sign-in. */
export async function recordUserLogin(db: CommonQueryMethods, id: string): Promise<User | null> {
  return db.maybeOne(sql.type(userRow)`
    UPDATE users SET last_login_at = now() WHERE id = ${id} RETURNING ${userColumns}`);
}

/**
 * Rights a sign-in grants by itself (allowlist rule, ADMIN_EMAILS); never
 * takes any away, and never overrides an administrator's decision on the
 * same right (checked here too, against a decision committed meanwhile).
 * `ruleId`: the rule that approves, recorded with the approval it gives.
 */
export async function grantSignInRights(
  db: CommonQueryMethods,
  id: string,
  grant: { whitelist: boolean; admin: boolean; ruleId: string | null },
): Promise<User | null> {
  const approves = sql.fragment`(${grant.whitelist} AND NOT is_whitelisted AND approval_decided_at IS NULL)`;
  return db.maybeOne(sql.type(userRow)`
    UPDATE users SET
      approved_by_rule_id = CASE WHEN ${approves} THEN ${grant.ruleId}::uuid ELSE approved_by_rule_id END,
      is_whitelisted = is_whitelisted OR ${approves},
      role = CASE WHEN ${grant.admin} AND role_decided_at IS NULL THEN 'admin' ELSE role END
    WHERE id = ${id} AND status <> 'deleted'
    RETURNING ${userColumns}`);
}
