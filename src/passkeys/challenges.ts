import { randomBytes } from "node:crypto";
import type { CommonQueryMethods } from "slonik";
import {
  type ChallengePurpose,
  insertChallenge,
  takeChallenge,
} from "../../sql/webauthn-challenges.ts";

/** Long enough to finish a ceremony (the browser's own prompt gives up after `ceremonyTimeoutMs`). */
export const challengeTtlMs = 5 * 60_000;
export const ceremonyTimeoutMs = 2 * 60_000;

/** A new challenge (32 random bytes) stored for one ceremony. */
export async function issueChallenge(
  db: CommonQueryMethods,
  purpose: ChallengePurpose,
  userId: string | null,
): Promise<Uint8Array<ArrayBuffer>> {
  const bytes = randomBytes(32);
  await insertChallenge(db, {
    bytes,
    purpose,
    userId,
    expiresAt: new Date(Date.now() + challengeTtlMs),
  });
  return new Uint8Array(bytes);
}

/**
 * Uses up the challenge a response was signed over (read from its
 * clientDataJSON, which the signature covers: a response cannot claim one
 * challenge and sign another). Null when it is no live challenge of this
 * ceremony and user: unknown, expired, used, or issued for something else.
 */
export async function takeChallengeOf(
  db: CommonQueryMethods,
  clientDataJSON: string,
  purpose: ChallengePurpose,
  userId: string | null,
): Promise<string | null> {
  const challenge = challengeIn(clientDataJSON);
  if (!challenge) return null;
  const bytes = Buffer.from(challenge, "base64url");
  if (bytes.length !== 32 || bytes.toString("base64url") !== challenge) return null;
  return (await takeChallenge(db, bytes, purpose, userId)) ? challenge : null;
}

function challengeIn(clientDataJSON: string): string | null {
  try {
    const data: unknown = JSON.parse(Buffer.from(clientDataJSON, "base64url").toString("utf8"));
    const challenge = (data as { challenge?: unknown } | null)?.challenge;
    return typeof challenge === "string" ? challenge : null;
  } catch {
    return null;
  }
}
