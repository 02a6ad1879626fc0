import { randomUUID } from "node:crypto";
import type { DatabasePool, DatabaseTransactionConnection } from "slonik";
import { insertRefreshToken } from "../../sql/refresh-tokens.ts";
import { insertSessionAt } from "../../sql/sessions.ts";
import type { User } from "../../sql/users.ts";
import { recordAudit } from "../audit.ts";
import type { Config } from "../config/index.ts";
import type { Logger } from "../logger.ts";
import { tokensIssued } from "../metrics.ts";
import { hashSecret, newSessionSecret } from "../sessions/sessions.ts";
import type { AccessTokens } from "./access-tokens.ts";

// Token clients (CLIs, apps, services). Each sign-in of a client opens a
// session of its own (a "device": listed and revocable like a browser) and a
// refresh-token family bound to it, ending when the session does
// (REFRESH_TOKEN_TTL after the client signed in, however often it
// refreshes). Redeeming a refresh token: refresh-rotation.ts; revoking
// either token: token-revocation.ts.

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
