import type { CommonQueryMethods } from "slonik";
import {
  type BearerSubject,
  type BearerToken,
  findBearerSubjects,
} from "../../sql/revoked-access-tokens.ts";
import { batchedLookup } from "../db/batched-lookup.ts";
import { bearerKey, type CredentialCache } from "../sessions/credential-cache.ts";
import { type AccessTokenClaims, type AccessTokens, unexpired } from "./access-tokens.ts";

export type BearerCaller = { claims: AccessTokenClaims; subject: BearerSubject };

/**
 * Resolves `Authorization: Bearer <token>` to its caller, or null. The
 * signature, issuer, audience, type and lifetime are checked in memory first,
 * so a forged or expired token costs no database read; a good one costs one
 * (findBearerSubjects, shared with the checks of other requests at the same
 * moment): a deactivated user, a revoked session or a
 * deny-listed jti stop the token at once rather than at its expiry.
 *
 * With `credentialCache` (AUTH_CACHE_TTL), a passed check (claims and
 * caller together) is reused until a change to its user, session or jti is
 * notified (credential-cache.ts), and for at most that TTL: the same cache,
 * by the same rules, as sessions. A hit is the whole check of a cached token.
 */
export function createBearerAuthenticator(
  db: CommonQueryMethods,
  accessTokens: AccessTokens,
  credentialCache?: CredentialCache,
): (token: string) => Promise<BearerCaller | null> {
  const lookupSubject = bearerSubjectLookup(db);
  return async (token) => {
    const key = credentialCache ? bearerKey(token) : "";
    // One lookup for a token checked within the TTL: the entry was stored
    // only after its signature verified, and holds the claims with the
    // caller's state; only the expiry can have changed since.
    const cached = credentialCache?.get<BearerCaller>(key);
    if (cached && unexpired(cached.claims)) return cached;
    const claims = await accessTokens.verify(token);
    if (!claims) return null;
    const generation = credentialCache?.generation() ?? 0;
    const subject = await lookupSubject({
      userId: claims.sub,
      sessionId: claims.sid,
      jti: claims.jti,
      issuedAt: new Date(claims.iat * 1000),
    });
    if (!subject) return null;
    const caller = { claims, subject };
    const tags = [`u:${claims.sub}`, `s:${claims.sid}`, `j:${claims.jti}`];
    credentialCache?.set(key, caller, tags, generation);
    return caller;
  };
}

/** findBearerSubjects for the checks made at the same moment, as one statement. */
function bearerSubjectLookup(db: CommonQueryMethods) {
  return batchedLookup(
    async (tokens: readonly BearerToken[]) => {
      const found = await findBearerSubjects(db, tokens);
      return new Map(
        found.map(({ n, ...subject }) => [tokenKey(tokens[n - 1] as BearerToken), subject]),
      );
    },
    { keyOf: tokenKey },
  );
}

const tokenKey = (t: BearerToken) => `${t.jti} ${t.sessionId} ${t.userId} ${t.issuedAt.getTime()}`;

/** The token of an `Authorization: Bearer` header (RFC 6750 §2.1), or null. */
export function bearerTokenOf(authorization: string | undefined): string | null {
  const match = authorization ? /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(authorization) : null;
  return match?.[1] ?? null;
}
