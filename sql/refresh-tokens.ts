import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";
import type { SweptTable } from "./dead-rows.ts";

export const refreshTokenRow = z.object({
  id: z.uuid(),
  family_id: z.uuid(),
  parent_id: z.uuid().nullable(),
  user_id: z.uuid(),
  session_id: z.uuid().nullable(),
  issued_at: z.date(),
  expires_at: z.date(),
  used_at: z.date().nullable(),
  revoked_at: z.date().nullable(),
  device_info: z.string().nullable(),
  /** The relying party (src/oidc) the token was issued to; null for Gatehouse's own token clients. */
  client_id: z.uuid().nullable(),
  /** What a relying party's tokens may carry; null for Gatehouse's own. */
  scopes: z.array(z.string()).nullable(),
});
export type RefreshToken = z.infer<typeof refreshTokenRow>;

const refreshTokenColumns = sql.fragment`
  id, family_id, parent_id, user_id, session_id, issued_at, expires_at, used_at, revoked_at,
  device_info, client_id, scopes`;

export type NewRefreshToken = {
  tokenHash: Buffer;
  familyId: string;
  parentId: string | null;
  userId: string;
  sessionId: string | null;
  expiresAt: Date;
  deviceInfo: string | null;
  /** A relying party's token: its client and scopes. */
  client?: { id: string; scopes: readonly string[] } | null;
};

export async function insertRefreshToken(
  db: CommonQueryMethods,
  token: NewRefreshToken,
): Promise<RefreshToken> {
  return db.one(sql.type(refreshTokenRow)`
    INSERT INTO refresh_tokens (token_hash, family_id, parent_id, user_id, session_id, expires_at,
                                device_info, client_id, scopes)
    VALUES (${sql.binary(token.tokenHash)}, ${token.familyId}, ${token.parentId}, ${token.userId},
            ${token.sessionId}, ${sql.timestamp(token.expiresAt)}, ${token.deviceInfo?.slice(0, 512) ?? null},
            ${token.client?.id ?? null}, ${token.client ? sql.array(token.client.scopes, "text") : null})
    RETURNING ${refreshTokenColumns}`);
}

export async function findRefreshTokenByHash(
  db: CommonQueryMethods,
  tokenHash: Buffer,
): Promise<RefreshToken | null> {
  return db.maybeOne(sql.type(refreshTokenRow)`
    SELECT ${refreshTokenColumns} FROM refresh_tokens WHERE token_hash = ${sql.binary(tokenHash)}`);
}

/**
 * Marks a token used if, and only if, it is still unused, unrevoked and
 * unexpired, and was issued to `clientId` (null: Gatehouse's own token
 * clients): of two concurrent presentations exactly one gets the row back.
 */
export async function consumeRefreshToken(
  db: CommonQueryMethods,
  tokenHash: Buffer,
  clientId: string | null,
): Promise<RefreshToken | null> {
  return db.maybeOne(sql.type(refreshTokenRow)`
    UPDATE refresh_tokens SET used_at = now()
    WHERE token_hash = ${sql.binary(tokenHash)} AND client_id IS NOT DISTINCT FROM ${clientId}::uuid
      AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()
    RETURNING ${refreshTokenColumns}`);
}

export async function revokeRefreshTokenFamily(
  db: CommonQueryMethods,
  familyId: string,
): Promise<number> {
  const result = await db.query(sql.unsafe`
    UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = ${familyId} AND revoked_at IS NULL`);
  return result.rowCount;
}

export async function revokeRefreshTokensOfUser(
  db: CommonQueryMethods,
  userId: string,
): Promise<number> {
  const result = await db.query(sql.unsafe`
    UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = ${userId} AND revoked_at IS NULL`);
  return result.rowCount;
}

/** A refresh token with given times and state (seed data, cleanup tests). */
export async function insertRefreshTokenAt(
  db: CommonQueryMethods,
  token: NewRefreshToken & { issuedAt: Date; usedAt?: Date | null; revokedAt?: Date | null },
): Promise<RefreshToken> {
  return db.one(sql.type(refreshTokenRow)`
    INSERT INTO refresh_tokens (token_hash, family_id, parent_id, user_id, session_id, issued_at,
                                expires_at, used_at, revoked_at, device_info)
    VALUES (${sql.binary(token.tokenHash)}, ${token.familyId}, ${token.parentId}, ${token.userId},
            ${token.sessionId}, ${sql.timestamp(token.issuedAt)}, ${sql.timestamp(token.expiresAt)},
            ${token.usedAt ? sql.timestamp(token.usedAt) : null},
            ${token.revokedAt ? sql.timestamp(token.revokedAt) : null},
            ${token.deviceInfo?.slice(0, 512) ?? null})
    RETURNING ${refreshTokenColumns}`);
}

/** Families in which some token can still be redeemed. */
export async function countLiveRefreshFamilies(db: CommonQueryMethods): Promise<number> {
  return db.oneFirst(sql.type(z.object({ count: z.number().int() }))`
    SELECT count(DISTINCT family_id)::int AS count FROM refresh_tokens
    WHERE used_at IS NULL AND revoked_at IS NULL AND expires_at > now()`);
}

/**
 * For cleanup: tokens expired or revoked before the cutoff. Used tokens of a
 * live family stay until they expire, so presenting one again is still
 * caught as reuse.
 */
export const deadRefreshTokens: SweptTable = {
  table: "refresh_tokens",
  key: "id",
  dead: (cutoff) => sql.fragment`
    (expires_at < ${sql.timestamp(cutoff)} OR revoked_at < ${sql.timestamp(cutoff)})`,
};

/** A user's refresh tokens, newest first; the hash column is never selected. */
export async function listRefreshTokensOfUser(
  db: CommonQueryMethods,
  userId: string,
  limit: number,
): Promise<readonly RefreshToken[]> {
  return db.any(sql.type(refreshTokenRow)`
    SELECT ${refreshTokenColumns} FROM refresh_tokens
    WHERE user_id = ${userId}
    ORDER BY issued_at DESC
    LIMIT ${limit}`);
}

/** Revokes the user's refresh tokens except those bound to `keptSessionId`. */
export async function revokeRefreshTokensOfUserExceptSession(
  db: CommonQueryMethods,
  userId: string,
  keptSessionId: string | null,
): Promise<number> {
  const result = await db.query(sql.unsafe`
    UPDATE refresh_tokens SET revoked_at = now()
    WHERE user_id = ${userId} AND revoked_at IS NULL
      AND session_id IS DISTINCT FROM ${keptSessionId}::uuid`);
  return result.rowCount;
}
