import { randomBytes } from "node:crypto";
import type { DatabasePool } from "slonik";
import { findUserByEmail, insertUser, setUserState } from "../../sql/users.ts";
import { createTokenCipher, type EncryptionKey } from "../keys/token-encryption.ts";
import { seedAdminEmail, seedPeople } from "./seed-people.ts";
import {
  seedAllowlist,
  seedAuditHistory,
  seedLinkedAccounts,
  seedOneTimeTokens,
  seedSessions,
} from "./seed-records.ts";

// Development data covering every user state. Everything is written in one
// transaction and only when the seed admin does not exist yet: a second run
// finds it and changes nothing, and a failed run leaves nothing half-done.

export class SeedRefused extends Error {
  override name = "SeedRefused";
}

export type SeedReport = {
  seeded: boolean;
  users: number;
  /** Sign-in passwords, only on the run that created the users. */
  passwords: { email: string; password: string }[];
};

export async function seedDevelopmentData({
  pool,
  nodeEnv,
  keys,
}: {
  pool: DatabasePool;
  nodeEnv: string;
  keys: readonly EncryptionKey[];
}): Promise<SeedReport> {
  if (nodeEnv === "production") {
    throw new SeedRefused("seed writes fake users and refuses to run with NODE_ENV=production");
  }
  const cipher = await createTokenCipher(keys);
  const people = seedPeople();

  // Hashing is slow on purpose (argon2id): do it before the transaction opens.
  const passwords = new Map<string, string>();
  const hashes = new Map<string, string>();
  for (const person of people) {
    if (!person.withPassword || !person.email) continue;
    const password = `seed-${randomBytes(9).toString("base64url")}`;
    passwords.set(person.email, password);
    hashes.set(person.key, await Bun.password.hash(password, { algorithm: "argon2id" }));
  }

  return pool.transaction(async (tx) => {
    if (await findUserByEmail(tx, seedAdminEmail)) {
      return { seeded: false, users: people.length, passwords: [] };
    }
    const ids: Record<string, string> = {};
    for (const { key, withPassword: _, state, ...user } of people) {
      const created = await insertUser(tx, { ...user, passwordHash: hashes.get(key) ?? null });
      ids[key] = created.id;
      if (state) await setUserState(tx, created.id, state);
    }
    const id = (key: string) => ids[key] as string;
    await seedLinkedAccounts(tx, id, cipher);
    await seedSessions(tx, id);
    await seedOneTimeTokens(tx, id);
    await seedAllowlist(tx, id);
    await seedAuditHistory(tx, id);
    return {
      seeded: true,
      users: people.length,
      passwords: [...passwords].map(([email, password]) => ({ email, password })),
    };
  });
}
