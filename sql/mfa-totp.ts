import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";

export const totpRow = z.object({
  user_id: z.uuid(),
  /** Ciphertext (v2.<kid>.<iv>.<data>, bound to this row and column), never the secret itself. */
  secret: z.string(),
  created_at: z.date(),
  confirmed_at: z.date().nullable(),
  last_used_step: z.coerce.number().int().nullable(),
});
export type TotpRow = z.infer<typeof totpRow>;

const totpColumns = sql.fragment`user_id, secret, created_at, confirmed_at, last_used_step`;

export async function findTotpOfUser(
  db: CommonQueryMethods,
  userId: string,
): Promise<TotpRow | null> {
  return db.maybeOne(sql.type(totpRow)`
    SELECT ${totpColumns} FROM mfa_totp WHERE user_id = ${userId}`);
}

/** True when the user has a confirmed TOTP authenticator: a second factor is owed. */
export async function hasConfirmedTotp(db: CommonQueryMethods, userId: string): Promise<boolean> {
  return db.exists(sql.unsafe`
    SELECT 1 FROM mfa_totp WHERE user_id = ${userId} AND confirmed_at IS NOT NULL`);
}

/**
 * Starts (or restarts) an enrolment with a new sealed secret; null when the
 * user already has a confirmed authenticator, which this never overwrites.
 */
export async function saveUnconfirmedTotp(
  db: CommonQueryMethods,
  userId: string,
  sealedSecret: string,
): Promise<TotpRow | null> {
  return db.maybeOne(sql.type(totpRow)`
    INSERT INTO mfa_totp (user_id, secret) VALUES (${userId}, ${sealedSecret})
    ON CONFLICT (user_id) DO UPDATE
      SET secret = excluded.secret, created_at = now(), last_used_step = NULL
      WHERE mfa_totp.confirmed_at IS NULL
    RETURNING ${totpColumns}`);
}

/** Turns the factor on with the step of its first code; null when already on or gone. */
export async function confirmTotp(
  db: CommonQueryMethods,
  userId: string,
  sealedSecret: string,
  step: number,
): Promise<TotpRow | null> {
  return db.maybeOne(sql.type(totpRow)`
    UPDATE mfa_totp SET confirmed_at = now(), last_used_step = ${step}
    WHERE user_id = ${userId} AND secret = ${sealedSecret} AND confirmed_at IS NULL
    RETURNING ${totpColumns}`);
}

/**
 * Accepts a code's step once: one conditional UPDATE, so of two concurrent
 * uses of one code (or of an older one after it) exactly one gets true.
 */
export async function useTotpStep(
  db: CommonQueryMethods,
  userId: string,
  step: number,
): Promise<boolean> {
  const result = await db.query(sql.unsafe`
    UPDATE mfa_totp SET last_used_step = ${step}
    WHERE user_id = ${userId} AND confirmed_at IS NOT NULL
      AND (last_used_step IS NULL OR last_used_step < ${step})`);
  return result.rowCount === 1;
}

export async function deleteTotpOfUser(db: CommonQueryMethods, userId: string): Promise<boolean> {
  const result = await db.query(sql.unsafe`DELETE FROM mfa_totp WHERE user_id = ${userId}`);
  return result.rowCount === 1;
}

const secretKeyCountRow = z.object({ key_id: z.string(), tokens: z.number().int() });

/** How many TOTP secrets each encryption key sealed (the key id is the ciphertext's second part). */
export async function countTotpSecretsByKey(
  db: CommonQueryMethods,
): Promise<readonly z.infer<typeof secretKeyCountRow>[]> {
  return db.any(sql.type(secretKeyCountRow)`
    SELECT split_part(secret, '.', 2) AS key_id, count(*)::int AS tokens
    FROM mfa_totp GROUP BY 1 ORDER BY 1`);
}

export const sealedSecretRow = z.object({ user_id: z.uuid(), secret: z.string() });
export type SealedSecret = z.infer<typeof sealedSecretRow>;

/** Secrets not sealed as `<format>.<keyId>`, in user id order after `afterUserId`. */
export async function listTotpSecretsNotUnderKey(
  db: CommonQueryMethods,
  format: string,
  keyId: string,
  afterUserId: string | null,
  limit: number,
): Promise<readonly SealedSecret[]> {
  return db.any(sql.type(sealedSecretRow)`
    SELECT user_id, secret FROM mfa_totp
    WHERE NOT starts_with(secret, ${`${format}.${keyId}.`})
      AND user_id > ${afterUserId ?? "00000000-0000-0000-0000-000000000000"}
    ORDER BY user_id LIMIT ${limit}`);
}

/** Swaps in a re-encrypted secret only if the row still holds the one it was made from. */
export async function replaceTotpSecret(
  db: CommonQueryMethods,
  before: SealedSecret,
  secret: string,
): Promise<boolean> {
  const result = await db.query(sql.unsafe`
    UPDATE mfa_totp SET secret = ${secret}
    WHERE user_id = ${before.user_id} AND secret = ${before.secret}`);
  return result.rowCount === 1;
}
