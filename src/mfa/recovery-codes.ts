import { createHash, randomBytes } from "node:crypto";

// Recovery codes: 16 base32 characters (80 random bits) shown as four groups.
// Only SHA-256 over the user id and the code is stored: 80 bits cannot be
// guessed from a leaked table, and the user id keeps equal codes of two
// users apart.

export const recoveryCodeCount = 10;
const alphabet = "abcdefghijklmnopqrstuvwxyz234567";

export function newRecoveryCodes(): string[] {
  return Array.from({ length: recoveryCodeCount }, () => {
    const bytes = randomBytes(16);
    const chars = Array.from(bytes, (b) => alphabet[b & 31]).join("");
    return chars.match(/.{4}/g)?.join("-") ?? chars;
  });
}

/** Case, dashes and spaces do not matter; null when it cannot be a recovery code. */
export function normaliseRecoveryCode(input: string): string | null {
  const code = input.toLowerCase().replace(/[\s-]+/g, "");
  return /^[a-z2-7]{16}$/.test(code) ? code : null;
}

export function hashRecoveryCode(userId: string, normalised: string): Buffer {
  return createHash("sha256").update(`${userId}:${normalised}`).digest();
}
