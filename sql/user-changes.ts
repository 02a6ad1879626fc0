import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";
import { findUserById, type User, type UserRole, userColumns, userRow } from "./users.ts";

// Changes to a user other than signing in: an administrator's change (with
// the locks of the last-admin rule), profile edits, deletion.

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
  status?: "active" | "inactive" | "locked" | "denied";
  isWhitelisted?: boolean;
  role?: UserRole;
};

/**
 * Applies an administrator's change to a live (not deleted) user. Setting the
 * role or approval (even to its current value) records the decision (and who
 * took it), which
 * sign-in grants then leave alone. Making a user active also clears a
 * failed-login lockout. Any change that takes access
 * away moves tokens_valid_after to now, so bearer tokens already issued stop
 * working at once.
 */
export async function applyAdministrativeChange(
  db: CommonQueryMethods,
  id: string,
  change: AdministrativeChange,
  /** The administrator deciding; null for the command line. */
  decidedBy: string | null = null,
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
      approval_decided_by =
        CASE WHEN ${whitelisted}::boolean IS NULL THEN approval_decided_by ELSE ${decidedBy}::uuid END,
      -- Approved by hand now, whatever rule let the user in before.
      approved_by_rule_id =
        CASE WHEN ${whitelisted}::boolean IS NULL THEN approved_by_rule_id ELSE NULL END,
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

/** Tables whose rows belong to one user (user_id) and go with the account. */
export type UserOwnedTable =
  | "refresh_tokens"
  | "sessions"
  | "verification_tokens"
  | "pending_sign_ins"
  | "oauth_accounts"
  | "mfa_totp"
  | "mfa_recovery_codes"
  | "passkeys";

/** Deletes the user's rows from each table, in the order given (refresh tokens before their sessions). */
export async function deleteRowsOfUser(
  db: CommonQueryMethods,
  userId: string,
  tables: readonly UserOwnedTable[],
): Promise<void> {
  for (const table of tables) {
    await db.query(sql.unsafe`DELETE FROM ${sql.identifier([table])} WHERE user_id = ${userId}`);
  }
}
