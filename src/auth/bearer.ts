import type { CommonQueryMethods } from "slonik";
import { type BearerSubject, findBearerSubject } from "../../sql/revoked-access-tokens.ts";
import type { AccessTokenClaims, AccessTokens } from "./access-tokens.ts";
import { bearerKey, type CredentialCache } from "./credential-cache.ts";

/**
 * The caller behind `Authorization: Bearer <token>`, or null. The signature,
 * issuer, audience, type and lifetime are checked in memory first, so a
 * forged or expired token costs no database read; a good one costs one
 * (findBearerSubject): a deactivated user, a revoked session or a
 * deny-listed jti stop the token at once rather than at its expiry. With
 * `cache`, a positive answer is reused until one of those changes is
 * notified (credential-cache.ts); the lifetime is checked on every call.
 */
export async function authenticateBearer(
  db: CommonQueryMethods,
  accessTokens: AccessTokens,
  token: string,
  cache?: CredentialCache,
): Promise<{ claims: AccessTokenClaims; subject: BearerSubject } | null> {
  const claims = await accessTokens.verify(token);
  if (!claims) return null;
  const key = bearerKey(token);
  const cached = cache?.get<BearerSubject>(key);
  if (cached) return { claims, subject: cached };
  const generation = cache?.generation() ?? 0;
  const subject = await findBearerSubject(db, {
    userId: claims.sub,
    sessionId: claims.sid,
    jti: claims.jti,
    issuedAt: new Date(claims.iat * 1000),
  });
  if (!subject) return null;
  cache?.set(key, subject, [`u:${claims.sub}`, `s:${claims.sid}`, `j:${claims.jti}`], generation);
  return { claims, subject };
}

/** The token of an `Authorization: Bearer` header (RFC 6750 §2.1), or null. */
export function bearerTokenOf(authorization: string | undefined): string | null {
  const match = authorization ? /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(authorization) : null;
  return match?.[1] ?? null;
}
