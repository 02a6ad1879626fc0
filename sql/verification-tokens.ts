import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";
import type { SweptTable } from "./dead-rows.ts";

export const verificationPurposes = ["email_verification", "password_reset"] as const;
export type VerificationPurpose = (typeof verificationPurposes)[number];

export const verificationTokenRow = z.object({
  id: z.uuid(),
  user_id: z.uuid(),
  purpose: z.enum(verificationPurposes),
  created_at: z.date(),
  expires_at: z.date(),
  used_at: z.date().nullable(),
});
export type VerificationToken = z.infer<typeof verificationTokenRow>;

const tokenColumns = sql.fragment`id, user_id, purpose, created_at, expires_at, used_at`;

export async function insertVerificationToken(
  db: CommonQueryMethods,
  token: { tokenHash: Buffer; userId: string; purpose: VerificationPurpose; expiresAt: Date },
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
  purpose: VerificationPurpose,
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
  purpose: VerificationPurpose,
): Promise<number> {
  const result = await db.query(sql.unsafe`
    UPDATE verification_tokens SET used_at = now()
    WHERE user_id = ${userId} AND purpose = ${purpose} AND used_at IS NULL AND expires_at > now()`);
  return result.rowCount;
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
