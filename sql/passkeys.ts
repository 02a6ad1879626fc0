import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";

export const passkeyDeviceTypes = ["singleDevice", "multiDevice"] as const;

export const passkeyRow = z.object({
  id: z.uuid(),
  user_id: z.uuid(),
  credential_id: z.instanceof(Buffer),
  /** COSE public key; the private key never leaves the authenticator. */
  public_key: z.instanceof(Buffer),
  counter: z.coerce.number().int().nonnegative(),
  transports: z.array(z.string()),
  device_type: z.enum(passkeyDeviceTypes),
  backed_up: z.boolean(),
  name: z.string(),
  created_at: z.date(),
  last_used_at: z.date().nullable(),
});
export type PasskeyRow = z.infer<typeof passkeyRow>;

const passkeyColumns = sql.fragment`
  id, user_id, credential_id, public_key, counter, transports, device_type, backed_up, name,
  created_at, last_used_at`;

export type NewPasskey = {
  userId: string;
  credentialId: Buffer;
  publicKey: Buffer;
  counter: number;
  transports: readonly string[];
  deviceType: PasskeyRow["device_type"];
  backedUp: boolean;
  name: string;
};

/** Throws UniqueIntegrityConstraintViolationError when the credential is registered already. */
export async function insertPasskey(db: CommonQueryMethods, passkey: NewPasskey) {
  return db.one(sql.type(passkeyRow)`
    INSERT INTO passkeys
      (user_id, credential_id, public_key, counter, transports, device_type, backed_up, name)
    VALUES (${passkey.userId}, ${sql.binary(passkey.credentialId)},
            ${sql.binary(passkey.publicKey)}, ${passkey.counter},
            ${sql.array([...passkey.transports], "text")}, ${passkey.deviceType},
            ${passkey.backedUp}, ${passkey.name})
    RETURNING ${passkeyColumns}`);
}

export async function listPasskeysOfUser(
  db: CommonQueryMethods,
  userId: string,
): Promise<readonly PasskeyRow[]> {
  return db.any(sql.type(passkeyRow)`
    SELECT ${passkeyColumns} FROM passkeys WHERE user_id = ${userId} ORDER BY created_at, id`);
}

/** The passkey an assertion names, whoever it belongs to. */
export async function findPasskeyByCredentialId(
  db: CommonQueryMethods,
  credentialId: Buffer,
): Promise<PasskeyRow | null> {
  return db.maybeOne(sql.type(passkeyRow)`
    SELECT ${passkeyColumns} FROM passkeys WHERE credential_id = ${sql.binary(credentialId)}`);
}

/** How many passkeys the user has (the admin views show it). */
export async function countPasskeysOfUser(db: CommonQueryMethods, userId: string): Promise<number> {
  return db.oneFirst(sql.type(z.object({ count: z.number().int() }))`
    SELECT count(*)::int AS count FROM passkeys WHERE user_id = ${userId}`);
}

/** True when the user has a passkey: it is a second factor too. */
export async function hasPasskey(db: CommonQueryMethods, userId: string): Promise<boolean> {
  return db.exists(sql.unsafe`SELECT 1 FROM passkeys WHERE user_id = ${userId}`);
}

/**
 * Records a verified assertion: the new signature counter, the backup state
 * the authenticator reports now, the time. One conditional UPDATE: the
 * counter must rise past the stored one (or both stay 0, for authenticators
 * that keep no counter), so of two uses of one signature, or a clone that
 * fell behind, only the first passes. False when refused.
 */
export async function recordPasskeyUse(
  db: CommonQueryMethods,
  id: string,
  use: { counter: number; backedUp: boolean },
): Promise<boolean> {
  const result = await db.query(sql.unsafe`
    UPDATE passkeys SET counter = ${use.counter}, backed_up = ${use.backedUp}, last_used_at = now()
    WHERE id = ${id} AND (counter < ${use.counter} OR (counter = 0 AND ${use.counter} = 0))`);
  return result.rowCount === 1;
}

export async function deletePasskeyOfUser(
  db: CommonQueryMethods,
  userId: string,
  id: string,
): Promise<PasskeyRow | null> {
  return db.maybeOne(sql.type(passkeyRow)`
    DELETE FROM passkeys WHERE id = ${id} AND user_id = ${userId}
    RETURNING ${passkeyColumns}`);
}

/** Removes every passkey of the user (an administrator's reset); returns how many. */
export async function deletePasskeysOfUser(
  db: CommonQueryMethods,
  userId: string,
): Promise<number> {
  const result = await db.query(sql.unsafe`DELETE FROM passkeys WHERE user_id = ${userId}`);
  return result.rowCount;
}
