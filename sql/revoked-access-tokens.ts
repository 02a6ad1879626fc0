import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";

export const revokedAccessTokenRow = z.object({
  jti: z.string(),
  user_id: z.uuid().nullable(),
  revoked_at: z.date(),
  expires_at: z.date(),
});
export type RevokedAccessToken = z.infer<typeof revokedAccessTokenRow>;

/** Deny-lists a token id until the token would have expired anyway; idempotent. */
export async function denyAccessToken(
  db: CommonQueryMethods,
  token: { jti: string; userId: string | null; expiresAt: Date },
): Promise<void> {
  await db.query(sql.unsafe`
    INSERT INTO revoked_access_tokens (jti, user_id, expires_at)
    VALUES (${token.jti}, ${token.userId}, ${sql.timestamp(token.expiresAt)})
    ON CONFLICT (jti) DO NOTHING`);
}

export async function findRevokedAccessToken(
  db: CommonQueryMethods,
  jti: string,
): Promise<RevokedAccessToken | null> {
  return db.maybeOne(sql.type(revokedAccessTokenRow)`
    SELECT jti, user_id, revoked_at, expires_at FROM revoked_access_tokens WHERE jti = ${jti}`);
}

/** Deletes at most `limit` deny-list rows whose token has expired anyway; returns how many. */
export async function deleteExpiredDeniedTokens(
  db: CommonQueryMethods,
  limit: number,
): Promise<number> {
  const result = await db.query(sql.unsafe`
    DELETE FROM revoked_access_tokens WHERE jti IN (
      SELECT jti FROM revoked_access_tokens WHERE expires_at < now()
      LIMIT ${limit} FOR UPDATE SKIP LOCKED)`);
  return result.rowCount;
}

export async function countExpiredDeniedTokens(db: CommonQueryMethods): Promise<number> {
  return db.oneFirst(sql.type(z.object({ count: z.number().int() }))`
    SELECT count(*)::int AS count FROM revoked_access_tokens WHERE expires_at < now()`);
}
