import type { DatabasePool } from "slonik";
import { findBearerSubject } from "../../sql/revoked-access-tokens.ts";
import { findClientSessionGrant } from "../../sql/sessions.ts";
import { findUserById } from "../../sql/users.ts";
import { DomainError } from "../errors.ts";
import type { AccessTokens } from "../tokens/access-tokens.ts";
import { releasedClaims } from "./claims.ts";

/**
 * The userinfo answer (Core §5.3) for a relying party's access token: the
 * same checks as every bearer request (the user active and still approved,
 * the session and jti unrevoked), then the claims its scopes release.
 */
export async function userinfoOf(
  { pool, accessTokens }: { pool: DatabasePool; accessTokens: AccessTokens },
  token: string,
  audience: string,
): Promise<Record<string, unknown>> {
  const claims = await accessTokens.verifyForClient(token, audience);
  const subject = claims
    ? await findBearerSubject(pool, {
        userId: claims.sub,
        sessionId: claims.sid,
        jti: claims.jti,
        issuedAt: new Date(claims.iat * 1000),
      })
    : null;
  const user = claims && subject?.is_whitelisted ? await findUserById(pool, claims.sub) : null;
  if (!claims || !user) throw new DomainError("invalid_token");
  const released = { sub: user.id, ...releasedClaims(user, claims.scope.split(" ")) };
  // Only a grant whose claims parameter asked userinfo for the acr reads its session again.
  if (!claims.acr) return released;
  const grant = await findClientSessionGrant(pool, claims.sid);
  return grant?.client_claims?.userinfo ? { ...released, acr: grant.client_claims.acr } : released;
}
