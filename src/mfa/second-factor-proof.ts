import type { CommonQueryMethods } from "slonik";
import { consumeRecoveryCode, countUnusedRecoveryCodes } from "../../sql/mfa-recovery-codes.ts";
import { findTotpOfUser, hasConfirmedTotp, useTotpStep } from "../../sql/mfa-totp.ts";
import { recordAudit } from "../audit.ts";
import type { Config } from "../config/index.ts";
import type { TokenCipher } from "../keys/token-encryption.ts";
import type { Logger } from "../logger.ts";
import { mfaChallenges } from "../metrics.ts";
import { countFailedAttempt } from "../users/lockout.ts";
import { hashRecoveryCode, normaliseRecoveryCode } from "./recovery-codes.ts";
import { normaliseTotpCode, stepOfCode } from "./totp.ts";
import { openTotpSecret } from "./totp-secrets.ts";

/** What a person gives as their second factor. */
export type SecondFactorAnswer =
  | { kind: "totp"; code: string }
  | { kind: "recovery_code"; code: string };

export type SecondFactorMethod = SecondFactorAnswer["kind"];

/**
 * The authentication methods (RFC 8176 `amr` values where one exists) a
 * proved second factor adds: a TOTP code is `otp`; a recovery code has no
 * registered value and is named as it is.
 */
export const amrOf = (method: SecondFactorMethod) => (method === "totp" ? "otp" : "recovery_code");

/** True when the user has a second factor, so a first factor alone never completes a sign-in. */
export const hasSecondFactor = (db: CommonQueryMethods, userId: string) =>
  hasConfirmedTotp(db, userId);

/** The second factors a user can give now, as a pending sign-in offers them. */
export async function secondFactorMethods(
  db: CommonQueryMethods,
  userId: string,
): Promise<SecondFactorMethod[]> {
  const methods: SecondFactorMethod[] = ["totp"];
  if ((await countUnusedRecoveryCodes(db, userId)) > 0) methods.push("recovery_code");
  return methods;
}

/**
 * Checks a second factor and uses it up, in the caller's transaction: a TOTP
 * code's step is accepted once (a replayed code, or an older one after it,
 * is refused), a recovery code is consumed; each by one conditional UPDATE,
 * so of two concurrent uses exactly one passes. A used recovery code is
 * audited in the same transaction. False when the answer does not prove.
 */
export async function proveSecondFactor(
  tx: CommonQueryMethods,
  deps: { tokenCipher: () => Promise<TokenCipher>; logger: Logger },
  userId: string,
  answer: SecondFactorAnswer,
  facts: { ip: string | null; userAgent: string | null },
): Promise<boolean> {
  if (answer.kind === "totp") {
    const code = normaliseTotpCode(answer.code);
    const totp = code ? await findTotpOfUser(tx, userId) : null;
    if (!code || !totp?.confirmed_at) return false;
    const secret = await openTotpSecret(await deps.tokenCipher(), userId, totp.secret);
    const step = stepOfCode(secret, code);
    return step !== null && (await useTotpStep(tx, userId, step));
  }
  const code = normaliseRecoveryCode(answer.code);
  if (!code || !(await consumeRecoveryCode(tx, userId, hashRecoveryCode(userId, code)))) {
    return false;
  }
  await recordAudit(tx, deps.logger, {
    eventType: "mfa.recovery_code_used",
    result: "success",
    userId,
    ...facts,
    context: { left: await countUnusedRecoveryCodes(tx, userId) },
  });
  return true;
}

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
    failureReason: method === "totp" ? "bad_code" : "bad_recovery_code",
    context: { method, purpose: facts.purpose },
  });
  await countFailedAttempt(db, deps, userId, { ip: facts.ip, userAgent: facts.userAgent });
}
