import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import type { DatabasePool } from "slonik";
import {
  applyStatements,
  roleExists,
  runtimeRoleStatements,
  setRolePasswordVerifier,
} from "../../sql/database-roles.ts";

// Least privilege for the service: DATABASE_URL may name a role that reads
// and writes rows but cannot change the schema, while migrations and the
// CLI's owner work use DATABASE_MIGRATION_URL (the owner). See
// sql/database-roles.ts for exactly what the role gets.

export const defaultRuntimeRole = "gatehouse_app";

/** Why a role name is refused, or null. Plain lower-case names: no quoting surprises in psql or URLs. */
export function runtimeRoleNameProblem(role: string): string | null {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(role)) {
    return "role names are lower-case letters, digits and _, starting with a letter or _ (at most 63)";
  }
  if (role.startsWith("pg_")) return "names starting with pg_ are reserved by PostgreSQL";
  return null;
}

/** The SQL an operator runs (psql, as the schema owner) to create and grant the role. */
export function runtimeRoleScript(role: string, { login }: { login: boolean }): string {
  const statements = runtimeRoleStatements(role, { login }).map((s) => `${s.sql};`);
  return [
    `-- Gatehouse runtime role ${role}: reads and writes rows, cannot change the schema.`,
    "-- Run as the role that owns the schema (the one migrations run as), after the migrations.",
    ...statements,
    ...(login ? [`-- Then give it a password: \\password ${role}`] : []),
    "",
  ].join("\n");
}

/**
 * A SCRAM-SHA-256 verifier for a password (RFC 5802/7677, as libpq's
 * PQencryptPasswordConn builds it), which PostgreSQL takes in place of
 * the password itself.
 */
export function scramSha256Verifier(password: string, iterations = 4096): string {
  const salt = randomBytes(16);
  const salted = pbkdf2Sync(password.normalize("NFKC"), salt, iterations, 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  const storedKey = createHash("sha256").update(clientKey).digest();
  const serverKey = createHmac("sha256", salted).update("Server Key").digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}

export type RuntimeRoleResult = {
  role: string;
  created: boolean;
  /** Only when a password was set: the owner's URL with the role's name and new password. */
  databaseUrl?: string;
};

/**
 * Creates (if missing) and grants the runtime role in one transaction, and
 * with `setPassword` gives it a new random password. Throws when the role
 * would still be able to change the schema (nothing is then changed).
 */
export async function applyRuntimeRole(
  pool: DatabasePool,
  {
    role,
    login,
    setPassword,
    ownerUrl,
  }: { role: string; login: boolean; setPassword: boolean; ownerUrl: string },
): Promise<RuntimeRoleResult> {
  const existed = await roleExists(pool, role);
  const password = setPassword ? randomBytes(24).toString("base64url") : null;
  await pool.transaction(async (tx) => {
    await applyStatements(tx, runtimeRoleStatements(role, { login }));
    if (password) await setRolePasswordVerifier(tx, role, scramSha256Verifier(password));
  });
  if (!password) return { role, created: !existed };
  const url = new URL(ownerUrl);
  url.username = role;
  url.password = password;
  return { role, created: !existed, databaseUrl: url.toString() };
}
