import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";
import type { SweptTable } from "./dead-rows.ts";

export const verificationPurposes = [
  "email_verification",
  "password_reset",
  "email_sign_in",
] as const;
export type VerificationPurpose = (typeof verificationPurposes)[number];
/** The purposes of a mailed link (a sign-in code has functions of its own below). */
export type LinkPurpose = Exclude<VerificationPurpose, "email_sign_in">;

export const verificationTokenRow = z.object({
  id: z.uuid(),
  user_id: z.uuid(),
  purpose: z.enum(verificationPurposes),
  created_at: z.date(),
  expires_at: z.date(),
  used_at: z.date().nullable(),
  /** Wrong codes given so far (email sign-in codes only). */
  failed_attempts: z.number().int(),
});
export type VerificationToken = z.infer<typeof verificationTokenRow>;

const tokenColumns = sql.fragment`
  id, user_id, purpose, created_at, expires_at, used_at, failed_attempts`;

export async function insertVerificationToken(
  db: CommonQueryMethods,
  token: { tokenHash: Buffer; userId: string; purpose: LinkPurpose; expiresAt: Date },
): Promise<VerificationToken> {
  return db.one(sql.type(verificationTokenRow)`
    INSERT INTO verification_tokens (token_hash, user_id, purpose, expires_at)
    VALUES (${sql.binary(token.tokenHash)}, ${token.userId}, ${token.purpose}, ${sql.timestamp(token.expiresAt)})
    RETURNING ${tokenColumns}`);
}

/**
 * Uses a token once: one conditional UPDATE, so of two concurrent uses
 * exactly one gets the row back and the other gets null.
 */
export async function consumeVerificationToken(
  db: CommonQueryMethods,
  tokenHash: Buffer,
  purpose: LinkPurpose,
): Promise<VerificationToken | null> {
  return db.maybeOne(sql.type(verificationTokenRow)`
    UPDATE verification_tokens SET used_at = now()
    WHERE token_hash = ${sql.binary(tokenHash)} AND purpose = ${purpose}
      AND used_at IS NULL AND expires_at > now()
    RETURNING ${tokenColumns}`);
}

/** A new token of a purpose makes the older unused ones worthless (marked used, so cleanup takes them). */
export async function invalidateUnusedTokensOf(
  db: CommonQueryMethods,
  userId: string,
  purpose: LinkPurpose,
): Promise<number> {
  const result = await db.query(sql.unsafe`
    UPDATE verification_tokens SET used_at = now()
    WHERE user_id = ${userId} AND purpose = ${purpose} AND used_at IS NULL AND expires_at > now()`);
  return result.rowCount;
}

/**
 * The user's one email sign-in code: a new code replaces the row, whatever
 * state the old one was in (one statement, so two racing requests leave one
 * code, the later one).
 */
export async function replaceSignInCode(
  db: CommonQueryMethods,
  code: { codeHash: Buffer; userId: string; expiresAt: Date },
): Promise<VerificationToken> {
  return db.one(sql.type(verificationTokenRow)`
    INSERT INTO verification_tokens (token_hash, user_id, purpose, expires_at)
    VALUES (${sql.binary(code.codeHash)}, ${code.userId}, 'email_sign_in',
            ${sql.timestamp(code.expiresAt)})
    ON CONFLICT (user_id) WHERE purpose = 'email_sign_in' DO UPDATE SET
      token_hash = excluded.token_hash, created_at = now(), expires_at = excluded.expires_at,
      used_at = NULL, failed_attempts = 0
    RETURNING ${tokenColumns}`);
}

/**
 * Uses the user's live sign-in code when `codeHash` is its hash: one
 * conditional UPDATE, so of two concurrent uses exactly one gets the row.
 */
export async function consumeSignInCode(
  db: CommonQueryMethods,
  userId: string,
  codeHash: Buffer,
): Promise<VerificationToken | null> {
  return db.maybeOne(sql.type(verificationTokenRow)`
    UPDATE verification_tokens SET used_at = now()
    WHERE user_id = ${userId} AND purpose = 'email_sign_in'
      AND token_hash = ${sql.binary(codeHash)} AND used_at IS NULL AND expires_at > now()
    RETURNING ${tokenColumns}`);
}

/**
 * A wrong code given for the user's live sign-in code: counted, and the
 * `maxFailures`-th wrong try uses the code up. Null when there was no live
 * code to guess (none, used, expired, or used up by this very count's rival).
 */
export async function countWrongSignInCode(
  db: CommonQueryMethods,
  userId: string,
  maxFailures: number,
): Promise<VerificationToken | null> {
  return db.maybeOne(sql.type(verificationTokenRow)`
    UPDATE verification_tokens SET failed_attempts = failed_attempts + 1,
      used_at = CASE WHEN failed_attempts + 1 >= ${maxFailures} THEN now() ELSE NULL END
    WHERE user_id = ${userId} AND purpose = 'email_sign_in'
      AND used_at IS NULL AND expires_at > now()
    RETURNING ${tokenColumns}`);
}

/** A token with given times and state (seed data, cleanup tests). */
export async function insertVerificationTokenAt(
  db: CommonQueryMethods,
  token: {
    tokenHash: Buffer;
    userId: string;
    purpose: VerificationPurpose;
    createdAt: Date;
    expiresAt: Date;
    usedAt?: Date | null;
  },
): Promise<VerificationToken> {
  return db.one(sql.type(verificationTokenRow)`
    INSERT INTO verification_tokens (token_hash, user_id, purpose, created_at, expires_at, used_at)
    VALUES (${sql.binary(token.tokenHash)}, ${token.userId}, ${token.purpose},
            ${sql.timestamp(token.createdAt)}, ${sql.timestamp(token.expiresAt)},
            ${token.usedAt ? sql.timestamp(token.usedAt) : null})
    RETURNING ${tokenColumns}`);
}

/** For cleanup: tokens used or expired before the cutoff. */
export const spentVerificationTokens: SweptTable = {
  table: "verification_tokens",
  key: "id",
  dead: (cutoff) => sql.fragment`
    (used_at < ${sql.timestamp(cutoff)} OR expires_at < ${sql.timestamp(cutoff)})`,
};

export async function deleteVerificationTokensOfUser(
  db: CommonQueryMethods,
  userId: string,
): Promise<number> {
  const result = await db.query(
    sql.unsafe`DELETE FROM verification_tokens WHERE user_id = ${userId}`,
  );
  return result.rowCount;
}
