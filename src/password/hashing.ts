import type { PasswordsConfig } from "../config/index.ts";

// argon2id through Bun.password (libargon2 inside Bun; no native add-on).
// Bun uses one lane, as OWASP's recommended configurations do.

export type HashCost = Pick<
  PasswordsConfig,
  "PASSWORD_HASH_MEMORY_KIB" | "PASSWORD_HASH_TIME_COST"
>;

/** NIST SP 800-63B 5.1.1.2: Unicode passwords are normalised (NFKC) before hashing. */
export function normalisePassword(password: string): string {
  return password.normalize("NFKC");
}

export function hashPassword(password: string, cost: HashCost): Promise<string> {
  return Bun.password.hash(normalisePassword(password), {
    algorithm: "argon2id",
    memoryCost: cost.PASSWORD_HASH_MEMORY_KIB,
    timeCost: cost.PASSWORD_HASH_TIME_COST,
  });
}

/** False for a wrong password and for a stored value that is not a hash we can check. */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  try {
    return await Bun.password.verify(normalisePassword(password), hash, "argon2id");
  } catch {
    return false;
  }
}

/** True when `hash` was made with less memory or fewer passes than configured (or is not argon2id). */
export function needsRehash(hash: string, cost: HashCost): boolean {
  const match = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(hash);
  if (!match) return true;
  return (
    Number(match[1]) < cost.PASSWORD_HASH_MEMORY_KIB ||
    Number(match[2]) < cost.PASSWORD_HASH_TIME_COST
  );
}

// A login for an unknown email verifies this hash, made with the configured
// cost, so it takes as long as a login for a known one (no enumeration by
// timing). Made once per cost and process.
const dummyHashes = new Map<string, Promise<string>>();

/** Makes the dummy hash ahead of the first login (else that one login would take twice as long). */
export function dummyHash(cost: HashCost): Promise<string> {
  const key = `${cost.PASSWORD_HASH_MEMORY_KIB}:${cost.PASSWORD_HASH_TIME_COST}`;
  let dummy = dummyHashes.get(key);
  if (!dummy) {
    dummy = hashPassword(crypto.randomUUID(), cost);
    dummyHashes.set(key, dummy);
  }
  return dummy;
}

export async function verifyAgainstDummy(password: string, cost: HashCost): Promise<void> {
  await verifyPassword(password, await dummyHash(cost));
}
