import { dictionary } from "@zxcvbn-ts/language-common";
import type { PasswordsConfig } from "../config/index.ts";
import { normalisePassword } from "./hashing.ts";

// NIST SP 800-63B 5.1.1.2: a length floor, a generous ceiling, any Unicode,
// no composition rules, and a refusal of passwords known to attackers. The
// list is zxcvbn-ts's common-password dictionary (about 49,000 entries from
// breach corpora), shipped in the npm package: no network call at sign-up.

const commonPasswords = new Set(dictionary["passwords-common"].map((p) => p.toLowerCase()));

export const maxPasswordLength = 128;

/** Why `password` may not be used, or null when it may. Lengths count code points after NFKC. */
export function passwordRefusal(
  password: string,
  config: Pick<PasswordsConfig, "PASSWORD_MIN_LENGTH">,
  context: { email?: string | null } = {},
): string | null {
  const normalised = normalisePassword(password);
  const length = [...normalised].length;
  if (length < config.PASSWORD_MIN_LENGTH) {
    return `Use at least ${config.PASSWORD_MIN_LENGTH} characters.`;
  }
  if (length > maxPasswordLength) return `Use at most ${maxPasswordLength} characters.`;
  const lower = normalised.toLowerCase();
  if (commonPasswords.has(lower)) {
    return "This password is too common: it appears in lists of breached passwords.";
  }
  // Context-specific words (800-63B): the account's own address or its name part.
  const email = context.email?.trim().toLowerCase();
  if (email && (lower === email || lower === email.split("@")[0])) {
    return "Do not use your email address as your password.";
  }
  if (new Set(lower).size === 1) return "Do not repeat a single character.";
  return null;
}
