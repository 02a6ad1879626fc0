import type { CommonQueryMethods } from "slonik";
import { consumeRecoveryCode, countUnusedRecoveryCodes } from "../../sql/mfa-recovery-codes.ts";
import { findTotpOfUser, hasConfirmedTotp, useTotpStep } from "../../sql/mfa-totp.ts";
import { hasPasskey } from "../../sql/passkeys.ts";
import { recordAudit } from "../audit.ts";
import type { Config } from "../config/index.ts";
import type { TokenCipher } from "../keys/token-encryption.ts";
import type { Logger } from "../logger.ts";
import { mfaChallenges } from "../metrics.ts";
import { type PasskeyAssertion, provePasskey } from "../passkeys/assertion.ts";
import type { RelyingParty } from "../passkeys/relying-party.ts";
import { countFailedAttempt } from "../users/lockout.ts";
import { hashRecoveryCode, normaliseRecoveryCode } from "./recovery-codes.ts";
import { normaliseTotpCode, stepOfCode } from "./totp.ts";
import { openTotpSecret } from "./totp-secrets.ts";

/** What a person gives as their second factor. */
export type SecondFactorAnswer =
  | { kind: "totp"; code: string }
  | { kind: "recovery_code"; code: string }
  /** A passkey's answer to the challenge of POST /auth/mfa/passkey/options. */
  | { kind: "passkey"; assertion: PasskeyAssertion };

export type SecondFactorMethod = SecondFactorAnswer["kind"];

/** True when the user has a second factor (TOTP or a passkey), so a first factor alone never completes a sign-in. */
export const hasSecondFactor = async (db: CommonQueryMethods, userId: string) =>
  (await hasConfirmedTotp(db, userId)) || (await hasPasskey(db, userId));

/** The second factors a user can give now, as a pending sign-in offers them. */
export async function secondFactorMethods(
  db: CommonQueryMethods,
  userId: string,
): Promise<SecondFactorMethod[]> {
  const methods: SecondFactorMethod[] = [];
  if (await hasConfirmedTotp(db, userId)) methods.push("totp");
  if ((await countUnusedRecoveryCodes(db, userId)) > 0) methods.push("recovery_code");
  if (await hasPasskey(db, userId)) methods.push("passkey");
  return methods;
}

/**
 * Checks a second factor and uses it up, in the caller's transaction: a TOTP
 * code's step is accepted once (a replayed code, or an older one after it,
 * is refused), a recovery code is consumed, a passkey's challenge is taken
 * and its signature counter must rise (src/passkeys/assertion.ts); each by
 * one conditional statement, so of two concurrent uses exactly one passes.
 * A used recovery code is audited in the same transaction. Null when the
 * answer does not prove; else the RFC 8176 `amr` value it adds: `otp` for a
 * TOTP code, `hwk` or `swk` for a passkey; a recovery code has no
 * registered value and is named as it is.
 */
export async function proveSecondFactor(
  tx: CommonQueryMethods,
  deps: {
    tokenCipher: () => Promise<TokenCipher>;
    logger: Logger;
    relyingParty: RelyingParty;
  },
  userId: string,
  answer: SecondFactorAnswer,
  facts: { ip: string | null; userAgent: string | null },
): Promise<{ amr: string } | null> {
  if (answer.kind === "totp") {
    const code = normaliseTotpCode(answer.code);
    const totp = code ? await findTotpOfUser(tx, userId) : null;
    if (!code || !totp?.confirmed_at) return null;
    const secret = await openTotpSecret(await deps.tokenCipher(), userId, totp.secret);
    const step = stepOfCode(secret, code);
    return step !== null && (await useTotpStep(tx, userId, step)) ? { amr: "otp" } : null;
  }
  if (answer.kind === "passkey") {
    const result = await provePasskey(tx, deps.relyingParty, answer.assertion, {
      purpose: "second_factor",
      userId,
    });
    return result.ok ? { amr: result.proved.keyAmr } : null;
  }
  const code = normaliseRecoveryCode(answer.code);
  if (!code || !(await consumeRecoveryCode(tx, userId, hashRecoveryCode(userId, code)))) {
    return null;
  }
  await recordAudit(tx, deps.logger, {
    eventType: "mfa.recovery_code_used",
    result: "success",
    userId,
    ...facts,
    context: { left: await countUnusedRecoveryCodes(tx, userId) },
  });
  return { amr: "recovery_code" };
}

const failureReasons: Record<SecondFactorMethod, string> = {
  totp: "bad_code",
  recovery_code: "bad_recovery_code",
  passkey: "bad_passkey",
};

/**
 * A second factor that did not prove: audited `mfa.challenge_failed`, counted
 * per method, and counted toward the account's lockout like a wrong
 * password, so the second factor cannot be guessed at leisure by someone
 * who has the first.
 */
export async function recordSecondFactorFailure(
  db: CommonQueryMethods,
  deps: { config: Pick<Config, "limits">; logger: Logger },
  userId: string,
  method: SecondFactorMethod,
  facts: { ip: string | null; userAgent: string | null; purpose: string },
): Promise<void> {
  mfaChallenges.inc({ method, result: "failure" });
  await recordAudit(db, deps.logger, {
    eventType: "mfa.challenge_failed",
    result: "failure",
    userId,
    ip: facts.ip,
    userAgent: facts.userAgent,
    failureReason: failureReasons[method],
    context: { method, purpose: facts.purpose },
  });
  await countFailedAttempt(db, deps, userId, { ip: facts.ip, userAgent: facts.userAgent });
}
