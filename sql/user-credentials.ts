import { type CommonQueryMethods, sql } from "slonik";
import { type User, userColumns, userRow } from "./users.ts";

// A user's password and address proofs: setting a password, verifying the
// address, an address owner reclaiming an unverified account.

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
