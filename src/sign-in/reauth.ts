import type { PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import type { CommonQueryMethods } from "slonik";
import { hasConfirmedTotp } from "../../sql/mfa-totp.ts";
import { hasPasskey } from "../../sql/passkeys.ts";
import { markSessionAuthenticated } from "../../sql/sessions.ts";
import { findUserById } from "../../sql/users.ts";
import { type RequestFacts, recordAudit } from "../audit.ts";
import { DomainError } from "../errors.ts";
import {
  hasSecondFactor,
  proveSecondFactor,
  recordSecondFactorFailure,
  type SecondFactorAnswer,
} from "../mfa/second-factor-proof.ts";
import { assertionOptions } from "../passkeys/assertion.ts";
import { relyingPartyOf } from "../passkeys/relying-party.ts";
import { verifyAgainstDummy, verifyPassword } from "../password/hashing.ts";
import { countFailedAttempt } from "../users/lockout.ts";
import { accountLocked, enforceSignInLimit } from "./attempt.ts";
import type { SignInDeps } from "./complete.ts";

// A step-up (POST /auth/reauth): the signed-in user proves who they are
// again, and the session counts as recently authenticated (its
// authenticated_at is now), so sensitive changes pass for REAUTH_MAX_AGE.
// The proof is the strongest the account has: its second factor when it has
// one (a password alone would let someone who phished it and rides a stolen
// session through), else its password. A wrong answer counts toward the
// account's lockout like a wrong password at sign-in, under the same rate
// limits, so a stolen session cannot be used to guess at leisure.

export type ReauthProof = { kind: "password"; password: string } | SecondFactorAnswer;

/**
 * What a step-up of this user takes, as reauthenticate decides it: a code
 * (TOTP on; recovery codes go with it), the password (no second factor), or
 * neither ("sign_in_again": only passkeys, or no password, so only a fresh
 * sign-in counts).
 */
export type StepUpProof = "second_factor" | "password" | "sign_in_again";

export async function stepUpProofOf(db: CommonQueryMethods, userId: string): Promise<StepUpProof> {
  if (await hasConfirmedTotp(db, userId)) return "second_factor";
  if (await hasSecondFactor(db, userId)) return "sign_in_again";
  return (await findUserById(db, userId))?.password_hash ? "password" : "sign_in_again";
}

/**
 * Options for stepping up with one of the user's passkeys: a challenge bound
 * to the user (the answer goes to reauthenticate as a passkey proof). It
 * stores a challenge, so it counts against the client's sign-in rate limit.
 */
export async function reauthPasskeyOptions(
  deps: SignInDeps,
  userId: string,
  request: RequestFacts,
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  await enforceSignInLimit(deps, "login_ip", request);
  if (!(await hasPasskey(deps.pool, userId))) throw new DomainError("passkey_not_found");
  return assertionOptions(deps.pool, relyingPartyOf(deps.config.http), {
    purpose: "second_factor",
    userId,
  });
}

/** Proves `proof` for the user of `sessionId` and marks the session authenticated now. */
export async function reauthenticate(
  deps: SignInDeps,
  who: { userId: string; sessionId: string | null },
  proof: ReauthProof,
  request: RequestFacts,
): Promise<{ authenticatedAt: Date }> {
  const { config, pool, logger } = deps;
  const { userId, sessionId } = who;
  if (!sessionId) throw new DomainError("not_signed_in");
  await enforceSignInLimit(deps, "login_ip", request);
  await enforceSignInLimit(deps, "login_account", request, userId);

  const user = await findUserById(pool, userId);
  if (!user) throw new DomainError("not_signed_in");
  // While locked, guesses are neither checked nor counted (as at sign-in).
  const lockedMs = (user.locked_until?.getTime() ?? 0) - Date.now();
  if (lockedMs > 0) throw accountLocked(Math.ceil(lockedMs / 1000));
  if (user.status === "locked") throw accountLocked(null);
  if (user.status !== "active") throw new DomainError("account_inactive");

  const enrolled = await hasSecondFactor(pool, userId);
  const audited = async (result: "success" | "failure", failureReason?: string) =>
    recordAudit(pool, logger, {
      eventType: result === "success" ? "session.reauthenticated" : "session.reauth_failed",
      result,
      userId,
      ...request,
      ...(failureReason ? { failureReason } : {}),
      context: { method: proof.kind, session_id: sessionId },
    });

  if (proof.kind === "password") {
    if (enrolled) {
      throw new DomainError("mfa_proof_required", {
        detail:
          "This account has a second factor: confirm with a code from your authenticator or a recovery code.",
      });
    }
    if (!user.password_hash) {
      await verifyAgainstDummy(proof.password, config.passwords);
      throw new DomainError("password_not_set", {
        detail: "This account has no password: sign out and sign in again instead.",
      });
    }
    if (!(await verifyPassword(proof.password, user.password_hash))) {
      await countFailedAttempt(pool, deps, userId, request);
      await audited("failure", "bad_password");
      throw new DomainError("invalid_credentials", { detail: "Wrong password." });
    }
    if (!(await markSessionAuthenticated(pool, sessionId))) {
      throw new DomainError("not_signed_in");
    }
  } else {
    if (!enrolled) throw new DomainError("mfa_not_enrolled", { detail: "No authenticator is on." });
    const outcome = await pool.transaction(async (tx) => {
      const proofDeps = { ...deps, relyingParty: relyingPartyOf(config.http) };
      if (!(await proveSecondFactor(tx, proofDeps, userId, proof, request))) return "refused";
      return (await markSessionAuthenticated(tx, sessionId)) ? "proved" : "gone";
    });
    if (outcome === "gone") throw new DomainError("not_signed_in");
    if (outcome === "refused") {
      await recordSecondFactorFailure(pool, deps, userId, proof.kind, {
        ...request,
        purpose: "reauth",
      });
      throw new DomainError("mfa_code_invalid");
    }
  }
  await audited("success");
  return { authenticatedAt: new Date() };
}
