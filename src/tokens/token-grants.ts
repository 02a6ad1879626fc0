import { randomUUID } from "node:crypto";
import type { DatabasePool, DatabaseTransactionConnection } from "slonik";
import {
  consumeRefreshToken,
  findRefreshTokenByHash,
  insertRefreshToken,
  revokeRefreshTokenFamily,
} from "../../sql/refresh-tokens.ts";
import { denyAccessToken } from "../../sql/revoked-access-tokens.ts";
import { insertSessionAt, revokeSession, touchSessionReadingAmr } from "../../sql/sessions.ts";
import { findUserById, type User } from "../../sql/users.ts";
import { type AuditedDeps, type RequestFacts, recordAudit } from "../audit.ts";
import type { Config } from "../config/index.ts";
import { DomainError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { refreshTokenReuse, sessionsRevoked, tokensIssued, tokensRefreshed } from "../metrics.ts";
import { hashSecret, newSessionSecret } from "../sessions/sessions.ts";
import { type AccessTokens, clockToleranceSeconds } from "./access-tokens.ts";

// Token clients (CLIs, apps, services). Each sign-in of a client opens a
// session of its own (a "device": listed and revocable like a browser) and a
// refresh-token family bound to it, ending when the session does
// (REFRESH_TOKEN_TTL after the client signed in, however often it
// refreshes). Refresh tokens are 256 random bits stored as SHA-256 and
// single-use: every redemption marks the token used and issues its
// successor in one transaction. A used token presented again means two parties hold the
// family (OAuth 2.0 Security BCP §4.14), so the whole family and its session
// are revoked: the thief's and the victim's tokens stop alike.

export type TokenDeps = {
  config: Pick<Config, "tokens">;
  pool: DatabasePool;
  logger: Logger;
  accessTokens: AccessTokens;
};

/** Where a request came from, for the audit trail and the device list. */
export type ClientFacts = { ip: string | null; userAgent: string | null };

export type TokenPair = {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  refresh_token: string;
};

const invalidGrant = () => new DomainError("refresh_token_invalid");

/** Refresh tokens look like session secrets: 32 random bytes, base64url. */
const isRefreshSecret = (value: string) => /^[A-Za-z0-9_-]{43}$/.test(value);

/** A token client's new session and refresh-token family, written inside the caller's transaction. */
export type OpenedTokenSession = {
  sessionId: string;
  familyId: string;
  refreshSecret: string;
  amr: readonly string[];
};

/** How a token session comes about: a sign-in (password grant) or a browser session's exchange. */
export type TokenGrant =
  | { type: "password"; amr: readonly string[] }
  | { type: "session"; signedInAt: Date; amr: readonly string[] };

/**
 * Opens a session for a token client (a "device") and the first token of a
 * new refresh-token family, audited `token.issued`. Runs in the caller's
 * transaction: a sign-in completes it (src/sign-in/complete.ts), and so does
 * the exchange of a browser session (startTokenSession).
 */
export async function openTokenSession(
  tx: DatabaseTransactionConnection,
  { config, logger }: Pick<TokenDeps, "config" | "logger">,
  userId: string,
  grant: TokenGrant,
  client: ClientFacts,
): Promise<OpenedTokenSession> {
  const refreshSecret = newSessionSecret();
  const now = new Date();
  // The session's own secret is discarded: this device holds tokens, not a
  // cookie. Its created_at is when the user last proved who they are, which
  // "recent sign-in" checks (DELETE /me) read: exchanging an old browser
  // session must not pass for a fresh sign-in.
  const session = await insertSessionAt(tx, {
    tokenHash: hashSecret(newSessionSecret()),
    userId,
    createdAt: grant.type === "session" ? grant.signedInAt : now,
    lastSeenAt: now,
    expiresAt: new Date(now.getTime() + config.tokens.REFRESH_TOKEN_TTL),
    idleTimeoutSeconds: Math.ceil(config.tokens.REFRESH_TOKEN_TTL / 1000),
    ip: client.ip,
    userAgent: client.userAgent,
    amr: grant.amr,
  });
  const familyId = randomUUID();
  await insertRefreshToken(tx, {
    tokenHash: hashSecret(refreshSecret),
    familyId,
    parentId: null,
    userId,
    sessionId: session.id,
    expiresAt: session.expires_at,
    deviceInfo: client.userAgent,
  });
  await recordAudit(tx, logger, {
    eventType: "token.issued",
    result: "success",
    userId,
    ...client,
    context: { grant: grant.type, session_id: session.id, family_id: familyId },
  });
  return { sessionId: session.id, familyId, refreshSecret, amr: grant.amr };
}

/** The pair a client receives for an opened (committed) token session. */
export async function tokenPairFor(
  accessTokens: AccessTokens,
  user: Pick<User, "id" | "role" | "email" | "email_verified">,
  opened: Pick<OpenedTokenSession, "sessionId" | "refreshSecret" | "amr">,
): Promise<TokenPair> {
  const access = await accessTokens.issue({
    userId: user.id,
    sessionId: opened.sessionId,
    amr: opened.amr,
    role: user.role,
    email: user.email,
    emailVerified: user.email_verified,
  });
  return {
    access_token: access.token,
    token_type: "Bearer",
    expires_in: access.expiresIn,
    refresh_token: opened.refreshSecret,
  };
}

/**
 * Exchanges a browser session, signed in at `signedInAt`, for a token
 * client's own session and first pair (POST /auth/token/session). Not a
 * sign-in: the browser's sign-in was completed already.
 */
export async function startTokenSession(
  deps: TokenDeps,
  user: Pick<User, "id" | "role" | "email" | "email_verified">,
  browser: { signedInAt: Date; amr: readonly string[] },
  client: ClientFacts,
): Promise<TokenPair> {
  const opened = await deps.pool.transaction((tx) =>
    openTokenSession(tx, deps, user.id, { type: "session", ...browser }, client),
  );
  tokensIssued.inc({ grant: "session" });
  return tokenPairFor(deps.accessTokens, user, opened);
}

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
