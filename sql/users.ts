import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";

export const userRoles = ["user", "admin"] as const;
export const userStatuses = ["active", "inactive", "locked", "deleted"] as const;

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
  created_at: z.date(),
  updated_at: z.date(),
});
export type User = z.infer<typeof userRow>;
export type UserRole = User["role"];
export type UserStatus = User["status"];

const userColumns = sql.fragment`
  id, email, email_verified, username, full_name, avatar_url, password_hash, role, status,
  is_whitelisted, failed_login_attempts, lockout_count, locked_until, last_login_at,
  password_changed_at, tokens_valid_after, consent_at, role_decided_at, approval_decided_at,
  created_at, updated_at`;

export type NewUser = {
  email: string | null;
  emailVerified: boolean;
  username?: string | null;
  fullName?: string | null;
  avatarUrl?: string | null;
  passwordHash?: string | null;
  role?: UserRole;
  isWhitelisted?: boolean;
  consentAt?: Date | null;
};

/** Inserts a user; a taken email or username raises slonik's UniqueIntegrityConstraintViolationError. */
export async function insertUser(db: CommonQueryMethods, user: NewUser): Promise<User> {
  return db.one(sql.type(userRow)`
    INSERT INTO users (email, email_verified, username, full_name, avatar_url, password_hash,
                       role, is_whitelisted, consent_at, password_changed_at)
    VALUES (${user.email}, ${user.emailVerified}, ${user.username ?? null}, ${user.fullName ?? null},
            ${user.avatarUrl ?? null}, ${user.passwordHash ?? null}, ${user.role ?? "user"},
            ${user.isWhitelisted ?? false},
            ${user.consentAt ? sql.timestamp(user.consentAt) : null},
            ${user.passwordHash ? sql.fragment`now()` : null})
    RETURNING ${userColumns}`);
}

export async function findUserById(db: CommonQueryMethods, id: string): Promise<User | null> {
  return db.maybeOne(sql.type(userRow)`SELECT ${userColumns} FROM users WHERE id = ${id}`);
}

export async function findUserByEmail(db: CommonQueryMethods, email: string): Promise<User | null> {
  return db.maybeOne(sql.type(userRow)`SELECT ${userColumns} FROM users WHERE email = ${email}`);
}

export async function setUserRole(
  db: CommonQueryMethods,
  id: string,
  role: UserRole,
): Promise<User | null> {
  return db.maybeOne(sql.type(userRow)`
    UPDATE users SET role = ${role} WHERE id = ${id} RETURNING ${userColumns}`);
}

export async function setUserWhitelisted(
  db: CommonQueryMethods,
  id: string,
  isWhitelisted: boolean,
): Promise<User | null> {
  return db.maybeOne(sql.type(userRow)`
    UPDATE users SET is_whitelisted = ${isWhitelisted} WHERE id = ${id} RETURNING ${userColumns}`);
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

export const userFiguresRow = z.object({
  total: z.number().int(),
  active: z.number().int(),
  inactive: z.number().int(),
  locked: z.number().int(),
  deleted: z.number().int(),
  unverified: z.number().int(),
  locked_out_now: z.number().int(),
  whitelisted: z.number().int(),
  pending_approval: z.number().int(),
  admins: z.number().int(),
});
export type UserFigures = z.infer<typeof userFiguresRow>;

/** Users by status and gate state, for health reports (deleted users count only as deleted). */
export async function countUsersByState(db: CommonQueryMethods): Promise<UserFigures> {
  return db.one(sql.type(userFiguresRow)`
    SELECT count(*)::int AS total,
      count(*) FILTER (WHERE status = 'active')::int AS active,
      count(*) FILTER (WHERE status = 'inactive')::int AS inactive,
      count(*) FILTER (WHERE status = 'locked')::int AS locked,
      count(*) FILTER (WHERE status = 'deleted')::int AS deleted,
      count(*) FILTER (WHERE status <> 'deleted' AND NOT email_verified)::int AS unverified,
      count(*) FILTER (WHERE status <> 'deleted' AND locked_until > now())::int AS locked_out_now,
      count(*) FILTER (WHERE status <> 'deleted' AND is_whitelisted)::int AS whitelisted,
      count(*) FILTER (WHERE status = 'active' AND NOT is_whitelisted)::int AS pending_approval,
      count(*) FILTER (WHERE status <> 'deleted' AND role = 'admin')::int AS admins
    FROM users`);
}

/** A page row: the user plus its created_at at full microsecond precision, for the cursor. */
export const userPageRow = userRow.extend({ cursor_created_at: z.string() });
export type UserPageRow = z.infer<typeof userPageRow>;

export type UserListFilter = {
  /** Substring of email, username or full name (case-insensitive). */
  query?: string;
  /** Without a status, deleted (anonymised) users are left out. */
  status?: UserStatus;
  whitelisted?: boolean;
  /** Keyset cursor: rows strictly older than this (created_at, id). */
  before?: { createdAt: string; id: string };
  limit: number;
};

// A timestamptz rendered to the microsecond in UTC: a JavaScript Date keeps
// only milliseconds, and a cursor rounded to them would skip or repeat rows.
const exactCreatedAt = sql.fragment`
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_created_at`;

function likePattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * Newest first, keyset-paginated on (created_at, id): each page is one index
 * range scan however deep it is, and a row inserted meanwhile lands before the
 * cursor, so no row already listed or still to come is skipped or repeated.
 */
export async function listUsersPage(
  db: CommonQueryMethods,
  filter: UserListFilter,
): Promise<readonly UserPageRow[]> {
  const conditions = [
    filter.status ? sql.fragment`status = ${filter.status}` : sql.fragment`status <> 'deleted'`,
  ];
  if (filter.query) {
    conditions.push(
      sql.fragment`users_search_text(email, username, full_name) LIKE ${likePattern(filter.query)}`,
    );
  }
  if (filter.whitelisted !== undefined) {
    conditions.push(sql.fragment`is_whitelisted = ${filter.whitelisted}`);
  }
  if (filter.before) {
    conditions.push(
      sql.fragment`(created_at, id) < (${filter.before.createdAt}::timestamptz, ${filter.before.id}::uuid)`,
    );
  }
  return db.any(sql.type(userPageRow)`
    SELECT ${userColumns}, ${exactCreatedAt}
    FROM users
    WHERE ${sql.join(conditions, sql.fragment` AND `)}
    ORDER BY created_at DESC, id DESC
    LIMIT ${filter.limit}`);
}

/** Signed-in users waiting for approval, oldest first (served by users_pending_idx). */
export async function listPendingUsers(
  db: CommonQueryMethods,
  limit: number,
): Promise<readonly User[]> {
  return db.any(sql.type(userRow)`
    SELECT ${userColumns} FROM users
    WHERE NOT is_whitelisted AND status = 'active'
    ORDER BY created_at
    LIMIT ${limit}`);
}

/**
 * Locks every usable administrator (admin, active, whitelisted) until the
 * transaction ends and returns their ids. Two transactions that each demote
 * one of the last two admins serialise here; the second then sees one admin.
 */
export async function lockUsableAdmins(db: CommonQueryMethods): Promise<readonly string[]> {
  return db.anyFirst(sql.type(z.object({ id: z.uuid() }))`
    SELECT id FROM users
    WHERE role = 'admin' AND status = 'active' AND is_whitelisted
    ORDER BY id
    FOR UPDATE`);
}

/** The user, row-locked until the transaction ends. */
export async function lockUserById(db: CommonQueryMethods, id: string): Promise<User | null> {
  return db.maybeOne(sql.type(userRow)`
    SELECT ${userColumns} FROM users WHERE id = ${id} FOR UPDATE`);
}

export type AdministrativeChange = {
  status?: "active" | "inactive" | "locked";
  isWhitelisted?: boolean;
  role?: UserRole;
};

/**
 * Applies an administrator's change to a live (not deleted) user. Setting the
 * role or approval (even to its current value) records the decision, which
 * sign-in grants then leave alone. Making a user active also clears a
 * failed-login lockout. Any change that takes access
 * away moves tokens_valid_after to now, so bearer tokens already issued stop
 * working at once.
 */
export async function applyAdministrativeChange(
  db: CommonQueryMethods,
  id: string,
  change: AdministrativeChange,
): Promise<User | null> {
  const status = change.status ?? null;
  const whitelisted = change.isWhitelisted ?? null;
  const role = change.role ?? null;
  const reducesAccess =
    (status !== null && status !== "active") || whitelisted === false || role === "user";
  return db.maybeOne(sql.type(userRow)`
    UPDATE users SET
      status = coalesce(${status}::text, status),
      is_whitelisted = coalesce(${whitelisted}::boolean, is_whitelisted),
      role = coalesce(${role}::text, role),
      role_decided_at = CASE WHEN ${role}::text IS NULL THEN role_decided_at ELSE now() END,
      approval_decided_at =
        CASE WHEN ${whitelisted}::boolean IS NULL THEN approval_decided_at ELSE now() END,
      locked_until = CASE WHEN ${status}::text = 'active' THEN NULL ELSE locked_until END,
      failed_login_attempts =
        CASE WHEN ${status}::text = 'active' THEN 0 ELSE failed_login_attempts END,
      tokens_valid_after = CASE WHEN ${reducesAccess} THEN now() ELSE tokens_valid_after END
    WHERE id = ${id} AND status <> 'deleted'
    RETURNING ${userColumns}`);
}

/** Stops every bearer token issued to the user until now. */
export async function invalidateTokensOfUser(db: CommonQueryMethods, id: string): Promise<void> {
  await db.query(sql.unsafe`UPDATE users SET tokens_valid_after = now() WHERE id = ${id}`);
}

/**
 * Soft deletion: the row stays (so audit rows and foreign keys keep a target)
 * but holds nothing that identifies a person or lets anyone sign in.
 */
export async function anonymiseUser(db: CommonQueryMethods, id: string): Promise<User | null> {
  return db.maybeOne(sql.type(userRow)`
    UPDATE users SET
      status = 'deleted', email = NULL, email_verified = false, username = NULL,
      full_name = NULL, avatar_url = NULL, password_hash = NULL, role = 'user',
      is_whitelisted = false, failed_login_attempts = 0, locked_until = NULL,
      last_login_at = NULL, password_changed_at = NULL, consent_at = NULL,
      tokens_valid_after = now()
    WHERE id = ${id} AND status <> 'deleted'
    RETURNING ${userColumns}`);
}

/** Removes the row; sessions, tokens and linked accounts go with it (ON DELETE CASCADE). */
export async function deleteUser(db: CommonQueryMethods, id: string): Promise<boolean> {
  const result = await db.query(sql.unsafe`DELETE FROM users WHERE id = ${id}`);
  return result.rowCount === 1;
}

export type ProfileChange = {
  fullName?: string | null;
  username?: string | null;
  avatarUrl?: string | null;
};

/**
 * Changes the given profile fields (undefined: unchanged, null: cleared). A
 * taken username raises slonik's UniqueIntegrityConstraintViolationError.
 */
export async function updateUserProfile(
  db: CommonQueryMethods,
  id: string,
  change: ProfileChange,
): Promise<User | null> {
  const assignments = [];
  if (change.fullName !== undefined) assignments.push(sql.fragment`full_name = ${change.fullName}`);
  if (change.username !== undefined) assignments.push(sql.fragment`username = ${change.username}`);
  if (change.avatarUrl !== undefined)
    assignments.push(sql.fragment`avatar_url = ${change.avatarUrl}`);
  if (assignments.length === 0) return findUserById(db, id);
  return db.maybeOne(sql.type(userRow)`
    UPDATE users SET ${sql.join(assignments, sql.fragment`, `)}
    WHERE id = ${id} AND status <> 'deleted'
    RETURNING ${userColumns}`);
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

/**
 * Sets a new password: clears any lockout and stops bearer tokens issued so
 * far. `emailProven` (a reset link was opened from the mailbox) also marks
 * the address verified.
 */
export async function setUserPassword(
  db: CommonQueryMethods,
  id: string,
  passwordHash: string,
  emailProven: boolean,
): Promise<User | null> {
  return db.maybeOne(sql.type(userRow)`
    UPDATE users SET password_hash = ${passwordHash}, password_changed_at = now(),
      failed_login_attempts = 0, lockout_count = 0, locked_until = NULL,
      email_verified = email_verified OR ${emailProven}, tokens_valid_after = now()
    WHERE id = ${id} AND status <> 'deleted'
    RETURNING ${userColumns}`);
}

export async function markEmailVerified(db: CommonQueryMethods, id: string): Promise<User | null> {
  return db.maybeOne(sql.type(userRow)`
    UPDATE users SET email_verified = true
    WHERE id = ${id} AND status <> 'deleted' AND email IS NOT NULL
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
 */
export async function grantSignInRights(
  db: CommonQueryMethods,
  id: string,
  grant: { whitelist: boolean; admin: boolean },
): Promise<User | null> {
  return db.maybeOne(sql.type(userRow)`
    UPDATE users SET
      is_whitelisted = is_whitelisted OR (${grant.whitelist} AND approval_decided_at IS NULL),
      role = CASE WHEN ${grant.admin} AND role_decided_at IS NULL THEN 'admin' ELSE role END
    WHERE id = ${id} AND status <> 'deleted'
    RETURNING ${userColumns}`);
}

/**
 * The real owner of an address reclaims an account someone else signed up
 * with and never verified: the password they chose stops working, the
 * profile they typed goes, and the address counts as verified (the caller
 * holds proof of it). Null when the account was verified meanwhile.
 */
export async function reclaimUnverifiedUser(
  db: CommonQueryMethods,
  id: string,
): Promise<User | null> {
  return db.maybeOne(sql.type(userRow)`
    UPDATE users SET password_hash = NULL, password_changed_at = NULL, email_verified = true,
      full_name = NULL, username = NULL, avatar_url = NULL,
      failed_login_attempts = 0, lockout_count = 0, locked_until = NULL,
      tokens_valid_after = now()
    WHERE id = ${id} AND NOT email_verified AND status <> 'deleted'
    RETURNING ${userColumns}`);
}
