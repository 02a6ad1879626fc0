import {
  consumeRefreshToken,
  findRefreshTokenByHash,
  insertRefreshToken,
  revokeRefreshTokenFamily,
} from "../../sql/refresh-tokens.ts";
import { revokeSession, touchSessionReadingAmr } from "../../sql/sessions.ts";
import { findUserById, type User } from "../../sql/users.ts";
import { recordAudit } from "../audit.ts";
import { DomainError } from "../errors.ts";
import { refreshTokenReuse, sessionsRevoked, tokensRefreshed } from "../metrics.ts";
import { hashSecret, newSessionSecret } from "../sessions/sessions.ts";
import { type ClientFacts, type TokenDeps, type TokenPair, tokenPairFor } from "./token-grants.ts";

// Refresh tokens are 256 random bits stored as SHA-256 and single-use:
// every redemption marks the token used and issues its successor in one
// transaction. A used token presented again means two parties hold the
// family (OAuth 2.0 Security BCP §4.14), so the whole family and its session
// are revoked: the thief's and the victim's tokens stop alike.

const invalidGrant = () => new DomainError("refresh_token_invalid");

/** Refresh tokens look like session secrets: 32 random bytes, base64url. */
export const isRefreshSecret = (value: string) => /^[A-Za-z0-9_-]{43}$/.test(value);

/**
 * Redeems a refresh token for a new pair (grant_type=refresh_token). Of any
 * number of concurrent redemptions of one token exactly one wins (see
 * rotateRefreshToken).
 */
export async function refreshTokenPair(
  deps: TokenDeps,
  refreshToken: string,
  client: ClientFacts,
): Promise<TokenPair> {
  const rotated = await rotateRefreshToken(deps, refreshToken, client, null);
  return tokenPairFor(deps.accessTokens, rotated.user, {
    sessionId: rotated.sessionId,
    refreshSecret: rotated.nextSecret,
    amr: rotated.amr,
  });
}

/** A redeemed refresh token's successor and what the new tokens are for. */
export type RotatedRefreshToken = {
  user: User;
  sessionId: string;
  nextSecret: string;
  amr: readonly string[];
  /** A relying party's scopes (null for Gatehouse's own token clients). */
  scopes: readonly string[] | null;
};

/**
 * Uses up a refresh token issued to `clientId` (null: Gatehouse's own token
 * clients; a relying party's: src/oidc) and stores its successor in the same
 * family. The conditional UPDATE in consumeRefreshToken settles concurrent
 * redemptions in the database; the losers, finding the token used, revoke the
 * family and its session as reuse (`refresh_token_reused`). A token of
 * another client is refused as unknown and changes nothing.
 */
export async function rotateRefreshToken(
  { pool, logger }: Pick<TokenDeps, "pool" | "logger">,
  refreshToken: string,
  client: ClientFacts,
  clientId: string | null,
): Promise<RotatedRefreshToken> {
  if (!isRefreshSecret(refreshToken)) throw invalidGrant();
  const tokenHash = hashSecret(refreshToken);
  const outcome = await pool.transaction(async (tx) => {
    const consumed = await consumeRefreshToken(tx, tokenHash, clientId);
    if (consumed) {
      const user = await findUserById(tx, consumed.user_id);
      if (user?.status !== "active" || !consumed.session_id) {
        await revokeRefreshTokenFamily(tx, consumed.family_id);
        return null;
      }
      const nextSecret = newSessionSecret();
      await insertRefreshToken(tx, {
        tokenHash: hashSecret(nextSecret),
        familyId: consumed.family_id,
        parentId: consumed.id,
        userId: user.id,
        sessionId: consumed.session_id,
        // The family's absolute end, carried down from its first token.
        expiresAt: consumed.expires_at,
        deviceInfo: consumed.device_info,
        client:
          consumed.client_id && consumed.scopes
            ? { id: consumed.client_id, scopes: consumed.scopes }
            : null,
      });
      const amr = await touchSessionReadingAmr(tx, consumed.session_id);
      await recordAudit(tx, logger, {
        eventType: "token.refreshed",
        result: "success",
        userId: user.id,
        ...client,
        context: {
          session_id: consumed.session_id,
          family_id: consumed.family_id,
          ...(clientId ? { client_id: clientId } : {}),
        },
      });
      return {
        user,
        sessionId: consumed.session_id,
        nextSecret,
        amr,
        scopes: consumed.scopes,
      };
    }

    const presented = await findRefreshTokenByHash(tx, tokenHash);
    if (presented?.used_at && presented.client_id === clientId) {
      const revokedTokens = await revokeRefreshTokenFamily(tx, presented.family_id);
      const revokedSession = presented.session_id
        ? await revokeSession(tx, presented.session_id, "refresh_token_reuse")
        : false;
      await recordAudit(tx, logger, {
        eventType: "token.reuse_detected",
        result: "failure",
        userId: presented.user_id,
        ...client,
        failureReason: "used refresh token presented again",
        context: {
          family_id: presented.family_id,
          session_id: presented.session_id,
          revoked_refresh_tokens: revokedTokens,
          revoked_session: revokedSession,
        },
      });
      refreshTokenReuse.inc();
      if (revokedSession) sessionsRevoked.inc({ reason: "refresh_token_reuse" });
      return "reused" as const;
    }
    return null;
  });
  if (outcome === "reused") throw new DomainError("refresh_token_reused");
  if (!outcome) throw invalidGrant();
  tokensRefreshed.inc();
  return outcome;
}
