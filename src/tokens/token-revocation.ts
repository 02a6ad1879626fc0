import { findRefreshTokenByHash, revokeRefreshTokenFamily } from "../../sql/refresh-tokens.ts";
import { denyAccessToken } from "../../sql/revoked-access-tokens.ts";
import { revokeSession } from "../../sql/sessions.ts";
import { type AuditedDeps, type RequestFacts, recordAudit } from "../audit.ts";
import { hashSecret } from "../sessions/sessions.ts";
import { clockToleranceSeconds } from "./access-tokens.ts";
import { isRefreshSecret } from "./refresh-rotation.ts";
import type { ClientFacts, TokenDeps } from "./token-grants.ts";

/**
 * RFC 7009 revocation. A refresh token ends its family and the session it
 * belongs to (so that device's access tokens stop too, §2.1); an access
 * token's jti is deny-listed until the token would have expired anyway.
 * Anything else (unknown, expired, forged) is ignored: the answer is the
 * same either way, so revocation reveals nothing about a token.
 */
export async function revokeToken(
  { pool, logger, accessTokens }: TokenDeps,
  token: string,
  client: ClientFacts,
): Promise<void> {
  if (isRefreshSecret(token)) {
    const found = await findRefreshTokenByHash(pool, hashSecret(token));
    // A relying party's token was not issued to this endpoint's callers:
    // answered as an unknown one and left alone (RFC 7009 §2.1), or anyone
    // who saw it in passing (a log, a proxy) could sign the user out of the app.
    if (!found || found.client_id !== null) return;
    await pool.transaction(async (tx) => {
      const revokedTokens = await revokeRefreshTokenFamily(tx, found.family_id);
      const revokedSession = found.session_id
        ? await revokeSession(tx, found.session_id, "token_revoked")
        : false;
      if (revokedTokens === 0 && !revokedSession) return;
      await recordAudit(tx, logger, {
        eventType: "token.revoked",
        result: "success",
        userId: found.user_id,
        ...client,
        context: {
          token_type: "refresh_token",
          family_id: found.family_id,
          session_id: found.session_id,
          revoked_refresh_tokens: revokedTokens,
        },
      });
    });
    return;
  }
  const claims = await accessTokens.verify(token);
  if (claims) await revokeAccessToken({ pool, logger }, claims, client);
}

/**
 * Deny-lists an access token's jti until it would have expired anyway, and
 * audits `token.revoked` (`context` adds to what is recorded, e.g. the client).
 */
export async function revokeAccessToken(
  { pool, logger }: AuditedDeps,
  claims: { jti: string; sub: string; sid: string; exp: number },
  facts: RequestFacts,
  context: Record<string, string> = {},
): Promise<void> {
  await denyAccessToken(pool, {
    jti: claims.jti,
    userId: claims.sub,
    // Verifiers accept a token up to the clock tolerance past exp.
    expiresAt: new Date((claims.exp + clockToleranceSeconds) * 1000),
  });
  await recordAudit(pool, logger, {
    eventType: "token.revoked",
    result: "success",
    userId: claims.sub,
    ...facts,
    context: { token_type: "access_token", ...context, jti: claims.jti, session_id: claims.sid },
  });
}
