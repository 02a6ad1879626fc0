import { randomBytes } from "node:crypto";
import type { CommonQueryMethods } from "slonik";
import {
  consumeVerificationToken,
  insertVerificationToken,
  invalidateUnusedTokensOf,
  type LinkPurpose,
  type VerificationToken,
} from "../../sql/verification-tokens.ts";
import { hashSecret } from "../sessions/sessions.ts";

// Verification and reset links carry 256 random bits; the table keeps only
// their SHA-256, so a leaked table or backup opens nothing.

/**
 * A new token of `purpose` for the user; the older unused ones of the same
 * purpose stop working (only the latest mail's link is valid).
 */
export async function issueEmailToken(
  db: CommonQueryMethods,
  userId: string,
  purpose: LinkPurpose,
  ttlMs: number,
): Promise<string> {
  const secret = randomBytes(32).toString("base64url");
  await invalidateUnusedTokensOf(db, userId, purpose);
  await insertVerificationToken(db, {
    tokenHash: hashSecret(secret),
    userId,
    purpose,
    expiresAt: new Date(Date.now() + ttlMs),
  });
  return secret;
}

export const emailTokenPattern = /^[A-Za-z0-9_-]{43}$/;

/** Uses the token once (one conditional UPDATE); null when unknown, used, expired or of another purpose. */
export async function redeemEmailToken(
  db: CommonQueryMethods,
  secret: string,
  purpose: LinkPurpose,
): Promise<VerificationToken | null> {
  if (!emailTokenPattern.test(secret)) return null;
  return consumeVerificationToken(db, hashSecret(secret), purpose);
}
