import type { PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import type { Context } from "hono";
import type { RequestFacts } from "../audit.ts";
import { hasCode } from "../errors.ts";
import type { SecondFactorAnswer, SecondFactorMethod } from "../mfa/second-factor-proof.ts";
import type { TotpEnrolment } from "../mfa/totp-enrolment.ts";
import {
  completeSignIn,
  type PendingOutcome,
  type SessionOutcome,
  type SignInDeps,
} from "../sign-in/complete.ts";
import type { FirstFactor } from "../sign-in/first-factor.ts";
import {
  finishPendingEnrolment,
  finishPendingSignIn,
  pendingSignInMethods,
  pendingSignInOwesEnrolment,
  pendingSignInPasskeyOptions,
  startPendingEnrolment,
} from "../sign-in/pending-sign-in.ts";
import { pendingSignInExpired } from "../sign-in/second-factor.ts";
import { toMeResponse } from "../users/user-view.ts";
import { loginResponse, mfaRequiredResponse } from "./account-schemas.ts";
import type { AppEnv } from "./app-env.ts";
import { requestAuditFields } from "./audit-fields.ts";
import {
  clearPendingSignInCookie,
  readPendingSignInCookie,
  secondFactorPageUrl,
  writePendingSignInCookie,
} from "./pending-sign-in-cookie.ts";
import { writeSessionCookie } from "./session-cookie.ts";

/**
 * Signs the browser in with `factor` (signInBrowser) and answers: a form is
 * sent on to `redirectTo`, or to the second-factor page when one is owed;
 * JSON gets the user, or `mfa_required` with the methods to finish with.
 */
export async function answerBrowserSignIn(
  c: Context<AppEnv>,
  deps: SignInDeps,
  factor: FirstFactor,
  { form, redirectTo }: { form: boolean; redirectTo: string },
): Promise<Response> {
  const outcome = await signInBrowser(c, deps, factor);
  if (outcome.kind === "pending") {
    if (form) return c.redirect(secondFactorPageUrl(redirectTo), 303);
    return c.json(
      mfaRequiredResponse.parse({
        mfa_required: true,
        methods: outcome.methods,
        ...(outcome.enrolment ? { enrolment_required: true } : {}),
      }),
    );
  }
  if (form) return c.redirect(redirectTo, 303);
  return c.json(loginResponse.parse({ user: toMeResponse(outcome.user) }));
}

/**
 * Completes a browser's sign-in (src/sign-in/complete.ts) and writes its
 * session cookie, or, when a second factor is owed, the pending sign-in's
 * cookie (good only for POST /auth/mfa). Only the cookie's own session is
 * replaced; a bearer token's session is another client's.
 */
export async function signInBrowser(
  c: Context<AppEnv>,
  deps: SignInDeps,
  factor: FirstFactor,
): Promise<SessionOutcome | PendingOutcome> {
  const outcome = await completeSignIn(
    deps,
    factor,
    { kind: "browser", replaces: replacedSession(c) },
    requestAuditFields(c),
  );
  if (outcome.kind === "pending") {
    writePendingSignInCookie(c, deps.config, outcome.secret, outcome.expiresAt);
  } else {
    writeSessionCookie(c, deps.config, outcome.secret);
  }
  return outcome;
}

/** Finishes the browser's pending sign-in (its cookie) with a second factor. */
export async function finishBrowserSignIn(
  c: Context<AppEnv>,
  deps: SignInDeps,
  answer: SecondFactorAnswer,
): Promise<SessionOutcome> {
  return finishWithPendingCookie(c, deps, (secret, door, request) =>
    finishPendingSignIn(deps, secret, answer, door, request),
  );
}

/**
 * The browser's pending sign-in that owes an enrolment (its cookie) starts
 * its authenticator: the secret, URL and QR code to show.
 */
export async function startBrowserEnrolment(
  c: Context<AppEnv>,
  deps: SignInDeps,
): Promise<TotpEnrolment> {
  const secret = readPendingSignInCookie(c, deps.config);
  if (!secret) throw pendingSignInExpired();
  return startPendingEnrolment(deps, secret, { kind: "browser", replaces: null });
}

/**
 * Confirms that authenticator with its first code, which finishes the
 * sign-in: the session cookie replaces the pending one, and the first
 * recovery codes come back to be shown once.
 */
export async function finishBrowserEnrolment(
  c: Context<AppEnv>,
  deps: SignInDeps,
  code: string,
): Promise<SessionOutcome & { recoveryCodes: string[] }> {
  return finishWithPendingCookie(c, deps, (secret, door, request) =>
    finishPendingEnrolment(deps, secret, code, door, request),
  );
}

/**
 * Finishes the pending sign-in behind the browser's cookie with `finish`:
 * the session cookie replaces the pending one. For a pending sign-in that
 * is gone the cookie is cleared too (useless either way: the row decides);
 * a wrong answer leaves it for another try.
 */
async function finishWithPendingCookie<Outcome extends SessionOutcome>(
  c: Context<AppEnv>,
  deps: SignInDeps,
  finish: (
    secret: string,
    door: { kind: "browser"; replaces: string | null },
    request: RequestFacts,
  ) => Promise<Outcome>,
): Promise<Outcome> {
  const secret = readPendingSignInCookie(c, deps.config);
  try {
    if (!secret) throw pendingSignInExpired();
    const outcome = await finish(
      secret,
      { kind: "browser", replaces: replacedSession(c) },
      requestAuditFields(c),
    );
    clearPendingSignInCookie(c, deps.config);
    writeSessionCookie(c, deps.config, outcome.secret);
    return outcome;
  } catch (error) {
    if (hasCode(error, "mfa_sign_in_expired")) clearPendingSignInCookie(c, deps.config);
    throw error;
  }
}

/** Whether the browser's pending sign-in owes an enrolment; null when it has none. */
export async function browserPendingOwesEnrolment(
  c: Context<AppEnv>,
  deps: SignInDeps,
): Promise<boolean | null> {
  const secret = readPendingSignInCookie(c, deps.config);
  return secret
    ? pendingSignInOwesEnrolment(deps, secret, { kind: "browser", replaces: null })
    : null;
}

/** Passkey options for the browser's pending sign-in (its cookie); refused like POST /auth/mfa when it is gone. */
export async function browserPendingSignInPasskeyOptions(
  c: Context<AppEnv>,
  deps: SignInDeps,
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const secret = readPendingSignInCookie(c, deps.config);
  if (!secret) throw pendingSignInExpired();
  return pendingSignInPasskeyOptions(
    deps,
    secret,
    { kind: "browser", replaces: null },
    requestAuditFields(c),
  );
}

/** What the browser's pending sign-in (its cookie) can be finished with; null without a live one. */
export async function browserPendingSignInMethods(
  c: Context<AppEnv>,
  deps: Pick<SignInDeps, "config" | "pool">,
): Promise<SecondFactorMethod[] | null> {
  const secret = readPendingSignInCookie(c, deps.config);
  return secret
    ? pendingSignInMethods(deps.pool, secret, { kind: "browser", replaces: null })
    : null;
}

function replacedSession(c: Context<AppEnv>): string | null {
  const principal = c.get("principal");
  return principal?.via === "cookie" ? principal.sessionId : null;
}
