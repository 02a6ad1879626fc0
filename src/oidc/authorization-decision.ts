import type { DatabasePool } from "slonik";
import { type ClaimsGrant, insertAuthorizationCode } from "../../sql/oauth-authorization-codes.ts";
import { findConsentedScopes, grantConsent } from "../../sql/oauth-consents.ts";
import { hasPasskey } from "../../sql/passkeys.ts";
import type { UserStatus } from "../../sql/users.ts";
import { type RequestFacts, recordAudit } from "../audit.ts";
import type { Logger } from "../logger.ts";
import { hasSecondFactor } from "../mfa/second-factor-proof.ts";
import { hashSecret, newSessionSecret, sessionAuthenticatedAt } from "../sessions/sessions.ts";
import { chooseAcr, stepUpNeeds } from "./acr.ts";
import { type AuthorizationRequest, type Refusal, refuse } from "./authorization-request.ts";

// Deciding what a read authorization request (authorization-request.ts)
// gets: the sign-in page, a refusal at the client's redirect URI, the
// consent page, or a code.

/** Codes live this long (seconds): enough for a redirect and a back-channel request. */
export const codeTtlSeconds = 60;

/** How long a resumed request's marker (loginAfterParam) holds, in milliseconds. */
const loginAfterLifeMs = 600_000;

/** The browser's signed-in session, when it has one. */
export type BrowserSession = {
  sessionId: string;
  userId: string;
  status: UserStatus;
  isWhitelisted: boolean;
  amr: readonly string[];
};

export type Decision =
  /** Sign in first; `again`: even though signed in (prompt=login, max_age). */
  | { kind: "sign_in"; again: boolean }
  | Refusal
  | { kind: "consent" }
  | { kind: "code"; code: string };

/**
 * What an authorization request gets. `consented`: the user just allowed
 * the request on the consent page (recorded here, with the code).
 */
export async function decideAuthorization(
  { pool, logger }: { pool: DatabasePool; logger: Logger },
  request: AuthorizationRequest,
  browser: BrowserSession | null,
  facts: RequestFacts,
  { consented = false }: { consented?: boolean } = {},
): Promise<Decision> {
  const silent = request.prompt.has("none");
  const authTime = browser ? await sessionAuthenticatedAt(pool, browser.sessionId) : null;
  if (!browser || !authTime) {
    return silent
      ? refuse("login_required", "The user is not signed in.")
      : { kind: "sign_in", again: false };
  }
  const now = Date.now();
  const { loginAfter, maxAgeSeconds } = request;
  const signedInSinceRedirect =
    loginAfter !== null && now - loginAfter <= loginAfterLifeMs && authTime.getTime() >= loginAfter;
  const tooOld = maxAgeSeconds !== null && now - authTime.getTime() > maxAgeSeconds * 1000;
  // A resumed request (it carries the marker) wants a sign-in since its
  // redirect; a first one, a sign-in that prompt=login or max_age accepts.
  const stale =
    loginAfter !== null ? !signedInSinceRedirect : request.prompt.has("login") || tooOld;
  if (stale) {
    return silent
      ? refuse("login_required", "The user must sign in again.")
      : { kind: "sign_in", again: true };
  }
  const { client } = request;
  if (browser.status !== "active" || !browser.isWhitelisted) {
    await recordAudit(pool, logger, {
      eventType: "oidc.authorization_denied",
      result: "failure",
      userId: browser.userId,
      ...facts,
      failureReason: browser.status !== "active" ? browser.status : "not approved",
      context: { client_id: client.id },
    });
    // No more than the sign-in page tells the same person.
    return refuse("access_denied", "The account may not sign in to applications yet.");
  }
  const acr = await settleAcr(pool, request, browser, signedInSinceRedirect);
  if (acr.kind !== "acr") return acr;
  if (!client.first_party) {
    const consentedScopes = await findConsentedScopes(pool, browser.userId, client.id);
    const covered =
      consentedScopes !== null && request.scopes.every((s) => consentedScopes.includes(s));
    if (!consented && (!covered || request.prompt.has("consent"))) {
      return silent
        ? refuse("consent_required", "The user has not allowed this application.")
        : { kind: "consent" };
    }
  }
  const code = newSessionSecret();
  await pool.transaction(async (tx) => {
    if (consented) await grantConsent(tx, browser.userId, client.id, request.scopes);
    await insertAuthorizationCode(tx, {
      codeHash: hashSecret(code),
      clientId: client.id,
      userId: browser.userId,
      redirectUri: request.redirectUri,
      scopes: request.scopes,
      nonce: request.nonce,
      codeChallenge: request.codeChallenge,
      authTime,
      amr: browser.amr,
      claims: acr.grant,
      ttlSeconds: codeTtlSeconds,
    });
    await recordAudit(tx, logger, {
      eventType: "oidc.code_issued",
      result: "success",
      userId: browser.userId,
      ...facts,
      context: {
        client_id: client.id,
        scopes: request.scopes,
        consented,
        ...(acr.grant ? { acr: acr.grant.acr } : {}),
      },
    });
  });
  return { kind: "code", code };
}

/**
 * The acr the ID token reports, when the request asked for one. A class the
 * sign-in does not meet is sought once: a user who has what it takes (a
 * second factor for mfa, a passkey for phr) signs in again and gives it;
 * the request resumed after that sign-in is not sent round again. Then a voluntary request (acr_values) gets the class
 * that was met, and an essential one (the claims parameter) fails with
 * unmet_authentication_requirements (Core §5.5.1.1: a failed sign-in).
 */
async function settleAcr(
  pool: DatabasePool,
  request: AuthorizationRequest,
  browser: BrowserSession,
  signedInSinceRedirect: boolean,
): Promise<
  Refusal | { kind: "sign_in"; again: true } | { kind: "acr"; grant: ClaimsGrant | null }
> {
  const asked = request.acr;
  if (!asked) return { kind: "acr", grant: null };
  const { acr, met } = chooseAcr(asked, browser.amr);
  if (!met) {
    const needs = signedInSinceRedirect ? null : stepUpNeeds(asked);
    const stepUp =
      needs === "second_factor"
        ? await hasSecondFactor(pool, browser.userId)
        : needs === "passkey" && (await hasPasskey(pool, browser.userId));
    if (stepUp && !request.prompt.has("none")) return { kind: "sign_in", again: true };
    if (asked.essential) {
      return stepUp
        ? refuse("login_required", "The requested acr needs the user to sign in again.")
        : refuse(
            "unmet_authentication_requirements",
            "The user cannot sign in in the way the requested acr needs.",
          );
    }
  }
  return {
    kind: "acr",
    grant: { acr, id_token: asked.inIdToken, userinfo: asked.atUserinfo },
  };
}
