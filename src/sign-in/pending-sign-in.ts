import type { PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import { hasPasskey } from "../../sql/passkeys.ts";
import { findLivePendingSignIn, type PendingSignInRow } from "../../sql/pending-sign-ins.ts";
import { findUserById, type User } from "../../sql/users.ts";
import type { RequestFacts } from "../audit.ts";
import { DomainError } from "../errors.ts";
import {
  recordSecondFactorFailure,
  type SecondFactorAnswer,
  type SecondFactorMethod,
  secondFactorMethods,
} from "../mfa/second-factor-proof.ts";
import { startTotpEnrolment, type TotpEnrolment } from "../mfa/totp-enrolment.ts";
import { assertionOptions } from "../passkeys/assertion.ts";
import { relyingPartyOf } from "../passkeys/relying-party.ts";
import { hashSecret } from "../sessions/sessions.ts";
import { enforceSignInLimit } from "./attempt.ts";
import { completeSignIn, type OutcomeAt, type SignInDeps } from "./complete.ts";
import { recordSignInFailure } from "./failures.ts";
import type { Door, SecondFactorGiven } from "./first-factor.ts";
import { pendingSignInExpired, SecondFactorRefused } from "./second-factor.ts";

/** The second factors a live pending sign-in's user can give (the page offers those); null when none is live. */
export async function pendingSignInMethods(
  pool: SignInDeps["pool"],
  secret: string,
  door: Door,
): Promise<SecondFactorMethod[] | null> {
  const pending =
    secret.length <= 256 ? await findLivePendingSignIn(pool, hashSecret(secret), door.kind) : null;
  return pending ? secondFactorMethods(pool, pending.user_id) : null;
}

/**
 * Options for answering a pending sign-in with a passkey: a challenge bound
 * to the pending sign-in's user, and only that user's passkeys allowed. It
 * stores a challenge, so it counts against the client's sign-in rate limit.
 */
export async function pendingSignInPasskeyOptions(
  deps: Pick<SignInDeps, "config" | "pool" | "logger" | "rateLimitStore">,
  secret: string,
  door: Door,
  request: RequestFacts,
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const { config, pool } = deps;
  const pending =
    secret.length <= 256 ? await findLivePendingSignIn(pool, hashSecret(secret), door.kind) : null;
  if (!pending) throw pendingSignInExpired();
  await enforceSignInLimit(deps, "login_ip", request);
  if (!(await hasPasskey(pool, pending.user_id))) throw new DomainError("passkey_not_found");
  return assertionOptions(pool, relyingPartyOf(config.http), {
    purpose: "second_factor",
    userId: pending.user_id,
  });
}

/**
 * Finishes a pending sign-in (POST /auth/mfa for a browser, the mfa grant of
 * /auth/token for a token client) with its second factor. The pending
 * sign-in must be live and made for this door; the password sign-in's rate
 * limits apply (per client network and per account, the same counters); the
 * rest happens in completeSignIn, as for every sign-in: the second-factor
 * step uses up the pending sign-in and the factor, then the session or
 * tokens. A second factor that does not prove changes nothing but the
 * failure count (it counts toward the lockout like a wrong password), and
 * the pending sign-in stays for another try until it expires. A pending
 * sign-in that owes an enrolment is refused here: it has no factor to give.
 */
export async function finishPendingSignIn<D extends Door>(
  deps: SignInDeps,
  secret: string,
  answer: SecondFactorAnswer,
  door: D,
  request: RequestFacts,
): Promise<OutcomeAt<D>> {
  const { pending, user } = await livePendingSignIn(deps, secret, door, request);
  if (pending.enrolment) throw new DomainError("mfa_enrolment_required");
  try {
    return await completePending(
      deps,
      pending,
      user,
      { pendingId: pending.id, answer },
      door,
      request,
    );
  } catch (error) {
    if (!(error instanceof SecondFactorRefused)) throw error;
    await recordSecondFactorFailure(deps.pool, deps, user.id, error.method, {
      ...request,
      purpose: "sign_in",
    });
    await recordSignInFailure(deps.pool, deps.logger, {
      method: pending.method,
      reason: "bad_second_factor",
      userId: user.id,
      ...request,
    });
    throw new DomainError(
      "mfa_code_invalid",
      error.method === "passkey" ? { detail: "That passkey was not accepted: try again." } : {},
    );
  }
}

/**
 * The authenticator a pending sign-in that owes an enrolment sets up (POST
 * /auth/mfa/totp): a new secret for the pending sign-in's user, on only once
 * finishPendingEnrolment confirms it. Nothing else is open to that pending
 * sign-in: no session, no token, no other route.
 */
export async function startPendingEnrolment(
  deps: SignInDeps,
  secret: string,
  door: Door,
): Promise<TotpEnrolment> {
  const pending = await findLive(deps, secret, door);
  if (!pending?.enrolment) throw pendingSignInExpired();
  const user = await findUserById(deps.pool, pending.user_id);
  if (!user) throw pendingSignInExpired();
  return startTotpEnrolment(deps, { id: user.id, email: user.email });
}

/**
 * Confirms the enrolment started for a pending sign-in with the app's first
 * code and, in the same transaction, finishes the sign-in with it (amr
 * `otp`): the session or tokens, and the first recovery codes. The sign-in
 * rate limits apply; a wrong code changes nothing.
 */
export async function finishPendingEnrolment<D extends Door>(
  deps: SignInDeps,
  secret: string,
  code: string,
  door: D,
  request: RequestFacts,
): Promise<OutcomeAt<D> & { recoveryCodes: string[] }> {
  const { pending, user } = await livePendingSignIn(deps, secret, door, request);
  if (!pending.enrolment) throw pendingSignInExpired();
  const outcome = await completePending(
    deps,
    pending,
    user,
    { pendingId: pending.id, enrolmentCode: code },
    door,
    request,
  );
  if (!outcome.recoveryCodes) throw pendingSignInExpired();
  return outcome as OutcomeAt<D> & { recoveryCodes: string[] };
}

/** Whether the live pending sign-in behind `secret` owes an enrolment; null when there is none. */
export async function pendingSignInOwesEnrolment(
  deps: SignInDeps,
  secret: string,
  door: Door,
): Promise<boolean | null> {
  return (await findLive(deps, secret, door))?.enrolment ?? null;
}

const findLive = (deps: SignInDeps, secret: string, door: Door) =>
  secret.length <= 256 ? findLivePendingSignIn(deps.pool, hashSecret(secret), door.kind) : null;

/** The live pending sign-in behind `secret` and its user, after the sign-in rate limits. */
async function livePendingSignIn(
  deps: SignInDeps,
  secret: string,
  door: Door,
  request: RequestFacts,
): Promise<{ pending: PendingSignInRow; user: User }> {
  const { pool } = deps;
  const pending = await findLive(deps, secret, door);
  if (!pending) throw pendingSignInExpired();

  await enforceSignInLimit(deps, "login_ip", request);
  await enforceSignInLimit(deps, "login_account", request, pending.user_id);

  const user = await findUserById(pool, pending.user_id);
  if (!user) throw pendingSignInExpired();
  return { pending, user };
}

async function completePending<D extends Door>(
  deps: SignInDeps,
  pending: PendingSignInRow,
  user: User,
  secondFactor: SecondFactorGiven,
  door: D,
  request: RequestFacts,
): Promise<OutcomeAt<D>> {
  const outcome = await completeSignIn(
    deps,
    {
      user,
      method: pending.method,
      ...(pending.identity ? { identity: pending.identity } : {}),
      context: pending.context,
      secondFactor,
    },
    door,
    request,
  );
  // A second factor was given, so the step never asks for one again.
  if (outcome.kind === "pending") throw pendingSignInExpired();
  return outcome;
}
