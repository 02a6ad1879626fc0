import { createHash, timingSafeEqual } from "node:crypto";
import type { DatabasePool, DatabaseTransactionConnection } from "slonik";
import {
  type AuthorizationCode,
  type ClaimsGrant,
  consumeAuthorizationCode,
  findAuthorizationCodeByHash,
  recordCodeIssuedSession,
} from "../../sql/oauth-authorization-codes.ts";
import { insertRefreshToken } from "../../sql/refresh-tokens.ts";
import { findClientSessionGrant, insertSessionAt, revokeSession } from "../../sql/sessions.ts";
import { findUserById, type User } from "../../sql/users.ts";
import { type RequestFacts, recordAudit } from "../audit.ts";
import type { Config } from "../config/index.ts";
import { DomainError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { hashSecret, newSessionSecret } from "../sessions/sessions.ts";
import type { AccessTokens } from "../tokens/access-tokens.ts";
import { rotateRefreshToken } from "../tokens/refresh-rotation.ts";
import { releasedClaims } from "./claims.ts";
import { clientSecretMatches, findClient, type OAuthClient } from "./clients.ts";
import type { IdTokens } from "./id-tokens.ts";

// The token endpoint's logic (OpenID Connect Core §3.1.3): who the client
// is, redeeming a code, refreshing. A relying party's tokens hang off a
// session of their own (sessions.client_id), so everything that ends a
// user's sessions (sign out everywhere, deactivation, deletion, an
// administrator) ends them too, and refresh tokens rotate with the same
// reuse detection as Gatehouse's own (src/tokens/refresh-rotation.ts).

export type ClientTokenDeps = {
  config: Pick<Config, "tokens" | "http">;
  pool: DatabasePool;
  logger: Logger;
  accessTokens: AccessTokens;
  idTokens: IdTokens;
};

export type ClientTokenResponse = {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  id_token: string;
  scope: string;
  refresh_token?: string;
};

/** The audience of relying parties' access tokens: the userinfo endpoint. */
export const userinfoPath = "/oauth2/userinfo";

const invalidClient = () => new DomainError("invalid_client");
const invalidCode = () => new DomainError("authorization_code_invalid");

/**
 * The client a token request is from: a confidential client must prove its
 * secret (client_secret_basic or client_secret_post), a public one only
 * names itself. Any failure is the same invalid_client.
 */
export async function authenticateClient(
  db: DatabasePool,
  clientId: string,
  secret: string | null,
): Promise<OAuthClient> {
  const client = await findClient(db, clientId);
  if (!client) throw invalidClient();
  if (client.confidential) {
    if (secret === null || !(await clientSecretMatches(db, client.id, secret))) {
      throw invalidClient();
    }
  } else if (secret !== null) {
    // A public client has no secret; one sent anyway is a misconfiguration.
    throw invalidClient();
  }
  return client;
}

/**
 * Redeems an authorization code (grant_type=authorization_code). The one
 * conditional UPDATE settles concurrent redemptions: exactly one wins. A
 * code presented again after its use is a stolen code's replay (or a
 * confused client): the tokens of the first redemption are revoked with their
 * session (RFC 6749 §4.1.2), and the answer is the same invalid_grant.
 */
export async function redeemAuthorizationCode(
  deps: ClientTokenDeps,
  client: OAuthClient,
  presented: { code: string; redirectUri: string | null; codeVerifier: string | null },
  facts: RequestFacts,
): Promise<ClientTokenResponse> {
  const { pool, logger } = deps;
  if (!/^[A-Za-z0-9_-]{43}$/.test(presented.code)) throw invalidCode();
  const codeHash = hashSecret(presented.code);
  const outcome = await pool.transaction(async (tx) => {
    const code = await consumeAuthorizationCode(tx, codeHash, client.id);
    if (!code) {
      await revokeReplayedCode(tx, logger, codeHash, client.id, facts);
      return null;
    }
    // The checks after the UPDATE: a code redeemed with the wrong redirect
    // URI or verifier is used up all the same, so it cannot be tried twice.
    if (!codeMatches(code, presented)) return null;
    const user = await findUserById(tx, code.user_id);
    if (user?.status !== "active" || !user.is_whitelisted) return null;
    const opened = await openClientSession(tx, deps, client, user, code, facts);
    await recordCodeIssuedSession(tx, code.id, opened.sessionId);
    return { user, code, opened };
  });
  if (!outcome) throw invalidCode();
  const { user, code, opened } = outcome;
  return clientTokens(deps, client, user, {
    sessionId: opened.sessionId,
    scopes: code.scopes,
    refreshSecret: opened.refreshSecret,
    authTime: code.auth_time,
    amr: code.amr,
    nonce: code.nonce,
    claims: code.claims,
  });
}

/** Refreshes a relying party's tokens (grant_type=refresh_token, offline_access). */
export async function refreshClientTokens(
  deps: ClientTokenDeps,
  client: OAuthClient,
  refreshToken: string,
  facts: RequestFacts,
): Promise<ClientTokenResponse> {
  const rotated = await rotateRefreshToken(deps, refreshToken, facts, client.id);
  // The session's authenticated_at is the sign-in the code carried.
  const grant = await findClientSessionGrant(deps.pool, rotated.sessionId);
  if (!rotated.user.is_whitelisted || !grant) throw new DomainError("refresh_token_invalid");
  return clientTokens(deps, client, rotated.user, {
    sessionId: rotated.sessionId,
    scopes: rotated.scopes ?? [],
    refreshSecret: rotated.nextSecret,
    // A refreshed ID token keeps the original sign-in's time and acr (Core §12.2).
    authTime: grant.authenticated_at,
    amr: rotated.amr,
    nonce: null,
    claims: grant.client_claims,
  });
}

function codeMatches(
  code: AuthorizationCode,
  presented: { redirectUri: string | null; codeVerifier: string | null },
): boolean {
  // Core §3.1.3.2: the redirect_uri of the authorization request, exactly.
  if (presented.redirectUri !== code.redirect_uri) return false;
  if (code.code_challenge === null) {
    // A verifier for a code issued without a challenge is a downgrade attempt.
    return presented.codeVerifier === null;
  }
  const verifier = presented.codeVerifier;
  if (verifier === null || !/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) return false;
  const computed = Buffer.from(createHash("sha256").update(verifier).digest("base64url"));
  const expected = Buffer.from(code.code_challenge);
  return computed.length === expected.length && timingSafeEqual(computed, expected);
}

async function revokeReplayedCode(
  tx: DatabaseTransactionConnection,
  logger: Logger,
  codeHash: Buffer,
  clientId: string,
  facts: RequestFacts,
): Promise<void> {
  const replayed = await findAuthorizationCodeByHash(tx, codeHash);
  if (!replayed?.used_at || replayed.client_id !== clientId) return;
  const revoked = replayed.issued_session_id
    ? await revokeSession(tx, replayed.issued_session_id, "authorization_code_reuse")
    : false;
  await recordAudit(tx, logger, {
    eventType: "oidc.code_reuse_detected",
    result: "failure",
    userId: replayed.user_id,
    ...facts,
    failureReason: "used authorization code presented again",
    context: {
      client_id: clientId,
      session_id: replayed.issued_session_id,
      revoked_session: revoked,
    },
  });
}

/**
 * The relying party's own session for this grant, and with offline_access
 * the first refresh token of its family. Without offline_access the session
 * ends with the access token.
 */
async function openClientSession(
  tx: DatabaseTransactionConnection,
  { config, logger }: Pick<ClientTokenDeps, "config" | "logger">,
  client: OAuthClient,
  user: User,
  code: AuthorizationCode,
  facts: RequestFacts,
): Promise<{ sessionId: string; refreshSecret: string | null }> {
  const offline = code.scopes.includes("offline_access");
  const lifeMs = offline ? config.tokens.REFRESH_TOKEN_TTL : config.tokens.ACCESS_TOKEN_TTL;
  const now = new Date();
  const session = await insertSessionAt(tx, {
    tokenHash: hashSecret(newSessionSecret()),
    userId: user.id,
    createdAt: code.auth_time,
    lastSeenAt: now,
    expiresAt: new Date(now.getTime() + lifeMs),
    idleTimeoutSeconds: Math.ceil(lifeMs / 1000),
    ip: facts.ip,
    userAgent: client.name,
    amr: code.amr,
    clientId: client.id,
    clientClaims: code.claims,
  });
  const refreshSecret = offline ? newSessionSecret() : null;
  if (refreshSecret) {
    await insertRefreshToken(tx, {
      tokenHash: hashSecret(refreshSecret),
      familyId: crypto.randomUUID(),
      parentId: null,
      userId: user.id,
      sessionId: session.id,
      expiresAt: session.expires_at,
      deviceInfo: client.name,
      client: { id: client.id, scopes: code.scopes },
    });
  }
  await recordAudit(tx, logger, {
    eventType: "token.issued",
    result: "success",
    userId: user.id,
    ...facts,
    context: { grant: "authorization_code", client_id: client.id, session_id: session.id },
  });
  return { sessionId: session.id, refreshSecret };
}

async function clientTokens(
  { accessTokens, idTokens, config }: ClientTokenDeps,
  client: OAuthClient,
  user: User,
  grant: {
    sessionId: string;
    scopes: readonly string[];
    refreshSecret: string | null;
    authTime: Date;
    amr: readonly string[];
    nonce: string | null;
    claims: ClaimsGrant | null;
  },
): Promise<ClientTokenResponse> {
  const access = await accessTokens.issueForClient({
    userId: user.id,
    sessionId: grant.sessionId,
    clientId: client.id,
    scopes: grant.scopes,
    audience: `${config.http.PUBLIC_URL}${userinfoPath}`,
    acr: grant.claims?.acr ?? null,
  });
  const idToken = await idTokens.sign({
    sub: user.id,
    clientId: client.id,
    alg: client.id_token_signed_response_alg,
    authTime: grant.authTime,
    nonce: grant.nonce,
    amr: grant.amr,
    acr: grant.claims?.id_token ? grant.claims.acr : null,
    accessToken: access.token,
    released: releasedClaims(user, grant.scopes),
  });
  return {
    access_token: access.token,
    token_type: "Bearer",
    expires_in: access.expiresIn,
    id_token: idToken,
    scope: grant.scopes.join(" "),
    ...(grant.refreshSecret ? { refresh_token: grant.refreshSecret } : {}),
  };
}
