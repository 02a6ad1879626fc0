import { type CommonQueryMethods, sql } from "slonik";
import type { SweptTable } from "./dead-rows.ts";

// WebAuthn challenges (see the migration that creates the table): random,
// short-lived, single use, each for one ceremony and, where the user is
// known, for that user.

export const challengePurposes = ["register", "sign_in", "second_factor"] as const;
export type ChallengePurpose = (typeof challengePurposes)[number];

/**
 * Stores a new challenge. A user's earlier challenge for the same purpose is
 * deleted first: one live ceremony of each kind per user, so the table
 * cannot be filled through one account.
 */
export async function insertChallenge(
  db: CommonQueryMethods,
  challenge: { bytes: Buffer; purpose: ChallengePurpose; userId: string | null; expiresAt: Date },
): Promise<void> {
  if (challenge.userId !== null) {
    await db.query(sql.unsafe`
      DELETE FROM webauthn_challenges
      WHERE user_id = ${challenge.userId} AND purpose = ${challenge.purpose}`);
  }
  await db.query(sql.unsafe`
    INSERT INTO webauthn_challenges (challenge, purpose, user_id, expires_at)
    VALUES (${sql.binary(challenge.bytes)}, ${challenge.purpose}, ${challenge.userId},
            ${sql.timestamp(challenge.expiresAt)})`);
}

/**
 * Uses a challenge up: deleted in the statement that finds it, so of two
 * responses signed over one challenge exactly one gets true. It must be
 * live and issued for this purpose (and this user, when one is given).
 */
export async function takeChallenge(
  db: CommonQueryMethods,
  bytes: Buffer,
  purpose: ChallengePurpose,
  userId: string | null,
): Promise<boolean> {
  const result = await db.query(sql.unsafe`
    DELETE FROM webauthn_challenges
    WHERE challenge = ${sql.binary(bytes)} AND purpose = ${purpose}
      AND user_id IS NOT DISTINCT FROM ${userId} AND expires_at > now()`);
  return result.rowCount === 1;
}

/** For cleanup: a challenge is worthless once expired. */
export const expiredChallenges: SweptTable = {
  table: "webauthn_challenges",
  key: "challenge",
  dead: () => sql.fragment`expires_at < now()`,
};
