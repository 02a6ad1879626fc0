import type { DatabaseTransactionConnection } from "slonik";
import { consumePendingSignIn, insertPendingSignIn } from "../../sql/pending-sign-ins.ts";
import { lockUserById } from "../../sql/user-changes.ts";
import type { Config } from "../config/index.ts";
import { DomainError } from "../errors.ts";
import type { TokenCipher } from "../keys/token-encryption.ts";
import type { Logger } from "../logger.ts";
import { providerAssertedSecondFactor, secondFactorRequired } from "../mfa/policy.ts";
import {
  hasSecondFactor,
  proveSecondFactor,
  type SecondFactorMethod,
  secondFactorMethods,
} from "../mfa/second-factor-proof.ts";
import { confirmTotpInTransaction } from "../mfa/totp-enrolment.ts";
import type { RelyingParty } from "../passkeys/relying-party.ts";
import { hashSecret, newSessionSecret } from "../sessions/sessions.ts";
import { accountLocked } from "./attempt.ts";
import type { Door, FirstFactor } from "./first-factor.ts";

/** How long a first factor waits for its second: long enough to open an authenticator app. */
export const pendingSignInTtlMs = 5 * 60_000;

export type SecondFactorDeps = {
  config: Pick<Config, "mfa" | "access">;
  logger: Logger;
  /** The provider-token cipher, which also seals TOTP secrets. */
  tokenCipher: () => Promise<TokenCipher>;
  /** Whose passkeys a passkey assertion must be for (PUBLIC_URL's host and origin). */
  relyingParty: RelyingParty;
};

export type SecondFactorOutcome =
  /**
   * Nothing more is owed; `amr` lists the methods used (RFC 8176 names);
   * `recoveryCodes` when the sign-in enrolled the user's first authenticator.
   */
  | { kind: "pass"; amr: string[]; recoveryCodes?: string[] }
  /**
   * A second factor is owed: a pending sign-in exists and its secret goes to
   * the client. `enrolment`: the user has none and policy requires one, so
   * the pending sign-in is good only for enrolling one (methods is empty).
   */
  | {
      kind: "pending";
      secret: string;
      methods: SecondFactorMethod[];
      enrolment: boolean;
      expiresAt: Date;
    };

/** No pending sign-in behind the secret: unknown, expired, finished, or another door's. */
export const pendingSignInExpired = () => new DomainError("mfa_sign_in_expired");

/** The second factor given did not prove; thrown inside the transaction, so nothing is used up. */
export class SecondFactorRefused extends Error {
  override name = "SecondFactorRefused";
  constructor(readonly method: SecondFactorMethod) {
    super("the second factor did not prove");
  }
}

/**
 * The second-factor step of every sign-in, the first thing completeSignIn
 * does in its transaction, before any session, token or lockout change:
 *  - a passkey sign-in passes at once: it proved two factors itself;
 *  - a user without a second factor whom policy (MFA_REQUIRED) does not
 *    cover passes;
 *  - a provider sign-in whose provider asserted its own second factor
 *    passes when MFA_TRUST_PROVIDER_AMR allows (amr gains `mfa`);
 *  - a user with a second factor, whose way in proved only the first,
 *    gets a pending sign-in instead (bound to the user, the first factor and
 *    the door; 5 minutes; single use): the failures are not cleared and
 *    nothing is granted until the second factor is proved;
 *  - a covered user without one gets a pending sign-in good only for
 *    enrolling an authenticator, whose confirmation finishes the sign-in;
 *  - a pending sign-in finished with a second factor (or the enrolment's
 *    first code) passes when it proves, using up the pending sign-in and the
 *    factor (a TOTP step, a recovery code, a passkey's challenge and counter)
 *    in the same transaction; otherwise SecondFactorRefused (a wrong
 *    enrolment code: its own refusal).
 * All but the first three refuse an account that is locked or inactive
 * first, so a locked account's second factor is neither checked nor counted.
 */
export async function secondFactorStep(
  tx: DatabaseTransactionConnection,
  deps: SecondFactorDeps,
  factor: FirstFactor,
  door: Door,
  request: { ip: string | null; userAgent: string | null },
): Promise<SecondFactorOutcome> {
  // A passkey sign-in proved two factors at once (src/sign-in/passkey-sign-in.ts).
  if (factor.passkey) return { kind: "pass", amr: factor.passkey.amr };
  const first = firstFactorAmr(factor.method);
  const userId = factor.user.id;
  const given = factor.secondFactor;
  if (!given) {
    const enrolled = await hasSecondFactor(tx, userId);
    // What completeSignIn's grants will read: the user's own address unless the way in asserted one.
    const identity = factor.identity ?? {
      email: factor.user.email,
      emailVerified: factor.user.email_verified,
    };
    if (!enrolled && !secondFactorRequired(deps.config, factor.user, identity)) {
      return { kind: "pass", amr: [first] };
    }
    if (providerAssertedSecondFactor(deps.config, factor.providerAmr)) {
      return { kind: "pass", amr: [first, "mfa"] };
    }
    await refuseLockedOrInactive(tx, userId);
    const secret = newSessionSecret();
    const expiresAt = new Date(Date.now() + pendingSignInTtlMs);
    await insertPendingSignIn(tx, {
      secretHash: hashSecret(secret),
      userId,
      method: factor.method,
      door: door.kind,
      identity: factor.identity
        ? {
            email: factor.identity.email,
            emailVerified: factor.identity.emailVerified,
            ...(factor.identity.githubOrgs ? { githubOrgs: [...factor.identity.githubOrgs] } : {}),
            ...(factor.identity.githubTeams
              ? { githubTeams: [...factor.identity.githubTeams] }
              : {}),
          }
        : null,
      context: factor.context ?? {},
      expiresAt,
      enrolment: !enrolled,
    });
    const methods = enrolled ? await secondFactorMethods(tx, userId) : [];
    return { kind: "pending", secret, methods, enrolment: !enrolled, expiresAt };
  }
  await refuseLockedOrInactive(tx, userId);
  const enrolling = "enrolmentCode" in given;
  // Bound to its user and its kind: a pending sign-in of one user never
  // finishes as another, nor an enrolment's with a code (or the reverse).
  if (!(await consumePendingSignIn(tx, given.pendingId, userId, enrolling))) {
    throw pendingSignInExpired();
  }
  if (enrolling) {
    const recoveryCodes = await confirmTotpInTransaction(
      tx,
      deps,
      userId,
      given.enrolmentCode,
      request,
    );
    return { kind: "pass", amr: [first, "otp"], recoveryCodes };
  }
  const proved = await proveSecondFactor(tx, deps, userId, given.answer, request);
  if (!proved) throw new SecondFactorRefused(given.answer.kind);
  return { kind: "pass", amr: [first, proved.amr] };
}

/**
 * RFC 8176: `pwd` for a password. A provider's sign-in and a mailed code have
 * no registered value: `fed` and `email` (the names Entra ID and Okta use).
 * Not `otp` for a mailed code: relying parties read `otp` as an
 * authenticator app's code, a second factor.
 */
function firstFactorAmr(method: string): string {
  if (method === "password" || method === "token") return "pwd";
  return method === "email_code" ? "email" : "fed";
}

async function refuseLockedOrInactive(tx: DatabaseTransactionConnection, userId: string) {
  const user = await lockUserById(tx, userId);
  if (!user) throw new DomainError("account_inactive");
  const lockedMs = (user.locked_until?.getTime() ?? 0) - Date.now();
  if (lockedMs > 0) throw accountLocked(Math.ceil(lockedMs / 1000));
  if (user.status === "locked") throw accountLocked(null);
  if (user.status !== "active") throw new DomainError("account_inactive");
}
