import type { DatabasePool } from "slonik";
import { findRefreshTokenByHash, revokeRefreshTokenFamily } from "../../sql/refresh-tokens.ts";
import { revokeSession } from "../../sql/sessions.ts";
import { type RequestFacts, recordAudit } from "../audit.ts";
import type { Logger } from "../logger.ts";
import { sessionsRevoked } from "../metrics.ts";
import { hashSecret } from "../sessions/sessions.ts";
import type { AccessTokens } from "../tokens/access-tokens.ts";
import { revokeAccessToken } from "../tokens/token-revocation.ts";
import type { OAuthClient } from "./clients.ts";

// RFC 7009 for relying parties (POST /oauth2/revoke): an authenticated
// client revokes a token issued to it. A refresh token ends its family and
// the client's session it belongs to (so that grant's access tokens stop
// too); an access token is deny-listed until it would have expired. A token
// of another client, or of Gatehouse's own /auth/token, is treated as
// unknown (§2.1: the server must check the token was issued to the caller)
// and left alone: the answer is the same, so revocation tells nothing.

export type ClientRevocationDeps = {
  pool: DatabasePool;
  logger: Logger;
  accessTokens: Pick<AccessTokens, "verifyForClient">;
};

/** Whether a presented string looks like one of our refresh tokens (256 random bits, base64url). */
const isRefreshSecret = (token: string) => /^[A-Za-z0-9_-]{43}$/.test(token);

export async function revokeClientToken(
  { pool, logger, accessTokens }: ClientRevocationDeps,
  client: OAuthClient,
  token: string,
  userinfoAudience: string,
  facts: RequestFacts,
): Promise<void> {
  if (isRefreshSecret(token)) {
    const found = await findRefreshTokenByHash(pool, hashSecret(token));
    if (found?.client_id !== client.id) return;
    const revokedSession = await pool.transaction(async (tx) => {
      const revokedTokens = await revokeRefreshTokenFamily(tx, found.family_id);
      const ended = found.session_id
        ? await revokeSession(tx, found.session_id, "token_revoked")
        : false;
      if (revokedTokens === 0 && !ended) return false;
      await recordAudit(tx, logger, {
        eventType: "token.revoked",
        result: "success",
        userId: found.user_id,
        ...facts,
        context: {
          token_type: "refresh_token",
          client_id: client.id,
          family_id: found.family_id,
          session_id: found.session_id,
          revoked_refresh_tokens: revokedTokens,
        },
      });
      return ended;
    });
    if (revokedSession) sessionsRevoked.inc({ reason: "token_revoked" });
    return;
  }
  const claims = await accessTokens.verifyForClient(token, userinfoAudience);
  if (claims?.client_id !== client.id) return;
  await revokeAccessToken({ pool, logger }, claims, facts, { client_id: client.id });
}
