import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";

/** The new set replaces every earlier code of the user, used or not. */
export async function replaceRecoveryCodes(
  db: CommonQueryMethods,
  userId: string,
  codeHashes: readonly Buffer[],
): Promise<void> {
  await db.query(sql.unsafe`DELETE FROM mfa_recovery_codes WHERE user_id = ${userId}`);
  await db.query(sql.unsafe`
    INSERT INTO mfa_recovery_codes (user_id, code_hash)
    SELECT ${userId}, decode(hex, 'hex')
    FROM unnest(${sql.array(
      codeHashes.map((hash) => hash.toString("hex")),
      "text",
    )}) AS hex`);
}

/**
 * Uses a code once: one conditional UPDATE, so of two concurrent uses of the
 * same code exactly one gets true.
 */
export async function consumeRecoveryCode(
  db: CommonQueryMethods,
  userId: string,
  codeHash: Buffer,
): Promise<boolean> {
  const result = await db.query(sql.unsafe`
    UPDATE mfa_recovery_codes SET used_at = now()
    WHERE user_id = ${userId} AND code_hash = ${sql.binary(codeHash)} AND used_at IS NULL`);
  return result.rowCount === 1;
}

export async function countUnusedRecoveryCodes(
  db: CommonQueryMethods,
  userId: string,
): Promise<number> {
  return db.oneFirst(sql.type(z.object({ count: z.number().int() }))`
    SELECT count(*)::int AS count FROM mfa_recovery_codes
    WHERE user_id = ${userId} AND used_at IS NULL`);
}

export async function deleteRecoveryCodesOfUser(
  db: CommonQueryMethods,
  userId: string,
): Promise<number> {
  const result = await db.query(sql.unsafe`
    DELETE FROM mfa_recovery_codes WHERE user_id = ${userId}`);
  return result.rowCount;
}
