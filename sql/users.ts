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
  created_at: z.date(),
  updated_at: z.date(),
});
export type User = z.infer<typeof userRow>;
export type UserRole = User["role"];
export type UserStatus = User["status"];

const userColumns = sql.fragment`
  id, email, email_verified, username, full_name, avatar_url, password_hash, role, status,
  is_whitelisted, failed_login_attempts, lockout_count, locked_until, last_login_at,
  password_changed_at, tokens_valid_after, consent_at, created_at, updated_at`;

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
