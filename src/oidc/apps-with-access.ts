import type { CommonQueryMethods } from "slonik";
import { z } from "zod";
import {
  type AppWithAccess,
  countUsersOfClient,
  deleteConsent,
  listAppsWithAccessOfUser,
} from "../../sql/oauth-consents.ts";
import { revokeClientSessionsOfUser } from "../../sql/sessions.ts";
import { type AuditedDeps, type RequestFacts, recordAudit } from "../audit.ts";
import { DomainError } from "../errors.ts";
import { sessionsRevoked } from "../metrics.ts";

export type { AppWithAccess };

// "Apps with access": the relying parties a user let in (a consent) or that
// hold the user's tokens now (a first-party client asks no consent, so its
// live tokens are its only trace). Removing one withdraws the consent and
// ends the client's sessions, whose refresh tokens end with them (the
// trigger sessions_revoke_refresh_tokens) and whose access tokens fail at
// their next use (userinfo reads the session): the next authorization asks
// again, and a refresh token kept by the app is refused.

/** An app as the account center and GET /me/apps show it. */
export function toAppView(app: AppWithAccess) {
  return {
    client_id: app.client_id,
    name: app.name,
    first_party: app.first_party,
    /** What the user allowed, else what its live tokens carry. */
    scopes: app.consented_scopes ?? app.token_scopes,
    consented_at: app.consented_at?.toISOString() ?? null,
    signed_in: app.live_sessions > 0,
    last_used_at: app.last_used_at?.toISOString() ?? null,
  };
}
export type AppView = ReturnType<typeof toAppView>;

export function appsWithAccess(
  db: CommonQueryMethods,
  userId: string,
): Promise<readonly AppWithAccess[]> {
  return listAppsWithAccessOfUser(db, userId);
}

/** How many users would lose access if the client were removed (its confirmation step says so). */
export function usersOfClient(db: CommonQueryMethods, clientId: string): Promise<number> {
  return countUsersOfClient(db, clientId);
}

/**
 * Withdraws what the user gave a client: its consent and its live sessions
 * and tokens, in one transaction, audited as `oidc.access_revoked`. Refused
 * as client_not_found when the client has neither (or the id is no client's).
 */
export async function removeAppAccess(
  { pool, logger }: AuditedDeps,
  userId: string,
  clientId: string,
  facts: RequestFacts,
): Promise<void> {
  if (!z.uuid().safeParse(clientId).success) throw new DomainError("client_not_found");
  const revoked = await pool.transaction(async (tx) => {
    const consentRemoved = await deleteConsent(tx, userId, clientId);
    const sessions = await revokeClientSessionsOfUser(tx, userId, clientId, "app_access_removed");
    if (!consentRemoved && sessions === 0) return null;
    await recordAudit(tx, logger, {
      eventType: "oidc.access_revoked",
      result: "success",
      userId,
      ...facts,
      context: { client_id: clientId, consent_removed: consentRemoved, revoked_sessions: sessions },
    });
    return sessions;
  });
  if (revoked === null) throw new DomainError("client_not_found");
  if (revoked > 0) sessionsRevoked.inc({ reason: "app_access_removed" }, revoked);
}
