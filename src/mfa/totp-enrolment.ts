import { toString as qrCodeText } from "qrcode";
import type { DatabasePool, DatabaseTransactionConnection } from "slonik";
import { deleteRecoveryCodesOfUser, replaceRecoveryCodes } from "../../sql/mfa-recovery-codes.ts";
import {
  confirmTotp,
  deleteTotpOfUser,
  findTotpOfUser,
  hasConfirmedTotp,
  saveUnconfirmedTotp,
} from "../../sql/mfa-totp.ts";
import { findUserById, lockUserById } from "../../sql/users.ts";
import { recordAudit } from "../audit.ts";
import type { Config } from "../config/index.ts";
import { DomainError, fieldError } from "../errors.ts";
import type { TokenCipher } from "../keys/token-encryption.ts";
import type { Logger } from "../logger.ts";
import type { Mailer } from "../mail/mailer.ts";
import { mfaChallenges } from "../metrics.ts";
import { relyingPartyOf } from "../passkeys/relying-party.ts";
import { keepsSecondFactorUnderPolicy } from "./policy.ts";
import { notifyRecoveryCodeUsed } from "./recovery-code-notice.ts";
import { hashRecoveryCode, newRecoveryCodes, normaliseRecoveryCode } from "./recovery-codes.ts";
import {
  proveSecondFactor,
  recordSecondFactorFailure,
  type SecondFactorAnswer,
} from "./second-factor-proof.ts";
import { newTotpSecret, normaliseTotpCode, otpauthUrl, stepOfCode } from "./totp.ts";
import { openTotpSecret, sealTotpSecret } from "./totp-secrets.ts";

// A user's own second factors: enrol a TOTP authenticator (on only once a
// first code confirms the app has it), turn it off, get a new set of
// recovery codes. Turning it off and new codes need a current second factor
// as well as the session: a stolen session alone must not remove the factor
// that protects the next sign-in.

export type MfaDeps = {
  config: Pick<Config, "http" | "limits" | "mfa" | "access">;
  pool: DatabasePool;
  logger: Logger;
  tokenCipher: () => Promise<TokenCipher>;
  /** Tells the user when a recovery code was used. */
  mailer: Mailer;
};

type Facts = { ip: string | null; userAgent: string | null };

export type TotpEnrolment = { secret: string; otpauth_url: string; qr_svg: string };

/** A new secret for the user's authenticator; the factor is on only after confirmTotpEnrolment. */
export async function startTotpEnrolment(
  deps: MfaDeps,
  user: { id: string; email: string | null },
): Promise<TotpEnrolment> {
  const secret = newTotpSecret();
  const sealed = await sealTotpSecret(await deps.tokenCipher(), user.id, secret);
  if (!(await saveUnconfirmedTotp(deps.pool, user.id, sealed)))
    throw new DomainError("mfa_already_enrolled");
  const issuer = new URL(deps.config.http.PUBLIC_URL).host;
  const url = otpauthUrl(secret, issuer, user.email ?? user.id);
  const svg = await qrCodeText(url, { type: "svg", errorCorrectionLevel: "M", margin: 2 });
  return { secret, otpauth_url: url, qr_svg: svg };
}

/**
 * Turns TOTP on with the first code the app shows, and hands out the first
 * set of recovery codes (shown this once); audited `mfa.enrolled`.
 */
export async function confirmTotpEnrolment(
  deps: MfaDeps,
  userId: string,
  code: string,
  facts: Facts,
): Promise<string[]> {
  const codes = await deps.pool.transaction((tx) =>
    confirmTotpInTransaction(tx, deps, userId, code, facts),
  );
  mfaChallenges.inc({ method: "totp", result: "success" });
  return codes;
}

/**
 * confirmTotpEnrolment's work inside the caller's transaction (a sign-in
 * that owed an enrolment finishes in the same one, src/sign-in/second-factor.ts).
 * A code that is not the app's current one throws and changes nothing; it
 * does not count toward the lockout: whoever enrols was shown the secret.
 */
export async function confirmTotpInTransaction(
  tx: DatabaseTransactionConnection,
  deps: Pick<MfaDeps, "logger" | "tokenCipher">,
  userId: string,
  code: string,
  facts: Facts,
): Promise<string[]> {
  const pending = await findTotpOfUser(tx, userId);
  if (!pending) throw new DomainError("mfa_not_enrolled");
  if (pending.confirmed_at) throw new DomainError("mfa_already_enrolled");
  const digits = normaliseTotpCode(code);
  const secret = await openTotpSecret(await deps.tokenCipher(), userId, pending.secret);
  const step = digits ? stepOfCode(secret, digits) : null;
  if (step === null) {
    mfaChallenges.inc({ method: "totp", result: "failure" });
    throw fieldError(
      "mfa_enrolment_code_invalid",
      "#/code",
      "Enter the six digits the app shows now.",
    );
  }
  const codes = newRecoveryCodes();
  // The very secret that was shown: a restarted enrolment meanwhile wins.
  if (!(await confirmTotp(tx, userId, pending.secret, step)))
    throw new DomainError("mfa_not_enrolled");
  await replaceRecoveryCodes(tx, userId, codes.map(recoveryHash(userId)));
  await recordAudit(tx, deps.logger, {
    eventType: "mfa.enrolled",
    result: "success",
    userId,
    ...facts,
    context: { method: "totp" },
  });
  return codes;
}

/**
 * Turns TOTP off (its recovery codes go with it); audited `mfa.removed`.
 * Refused (`mfa_last_factor`) when policy requires the user to have a second
 * factor: TOTP is then their only one.
 */
export async function removeTotp(
  deps: MfaDeps,
  userId: string,
  answer: SecondFactorAnswer,
  facts: Facts,
): Promise<void> {
  await withSecondFactor(deps, userId, answer, facts, "remove", async (tx) => {
    const user = await lockUserById(tx, userId);
    await deleteTotpOfUser(tx, userId);
    // A passkey left keeps the account covered: TOTP is then not the last factor.
    if (user && !(await keepsSecondFactorUnderPolicy(tx, deps.config, user))) {
      throw new DomainError("mfa_last_factor");
    }
    await deleteRecoveryCodesOfUser(tx, userId);
    await recordAudit(tx, deps.logger, {
      eventType: "mfa.removed",
      result: "success",
      userId,
      ...facts,
      context: { method: "totp" },
    });
  });
}

/** A new set of recovery codes; every earlier one stops working. */
export async function regenerateRecoveryCodes(
  deps: MfaDeps,
  userId: string,
  answer: SecondFactorAnswer,
  facts: Facts,
): Promise<string[]> {
  const codes = newRecoveryCodes();
  await withSecondFactor(deps, userId, answer, facts, "recovery_codes", async (tx) => {
    await replaceRecoveryCodes(tx, userId, codes.map(recoveryHash(userId)));
    await recordAudit(tx, deps.logger, {
      eventType: "mfa.recovery_codes_regenerated",
      result: "success",
      userId,
      ...facts,
    });
  });
  return codes;
}

const recoveryHash = (userId: string) => (code: string) =>
  hashRecoveryCode(userId, normaliseRecoveryCode(code) ?? code);

/**
 * Runs `change` in one transaction with the second factor that authorises
 * it; a wrong one changes nothing and counts like a failed sign-in.
 */
async function withSecondFactor(
  deps: MfaDeps,
  userId: string,
  answer: SecondFactorAnswer,
  facts: Facts,
  purpose: string,
  change: (tx: Parameters<Parameters<DatabasePool["transaction"]>[0]>[0]) => Promise<void>,
): Promise<void> {
  if (!(await hasConfirmedTotp(deps.pool, userId))) {
    throw new DomainError("mfa_not_enrolled", { detail: "No authenticator is on." });
  }
  const user = await findUserById(deps.pool, userId);
  // While locked, guesses are neither checked nor counted (as for passwords).
  if (user?.locked_until && user.locked_until.getTime() > Date.now()) {
    throw new DomainError("account_locked", {
      detail: "Too many wrong codes: this account is locked for a while.",
    });
  }
  const proved = await deps.pool.transaction(async (tx) => {
    const proofDeps = { ...deps, relyingParty: relyingPartyOf(deps.config.http) };
    if (!(await proveSecondFactor(tx, proofDeps, userId, answer, facts))) return false;
    await change(tx);
    return true;
  });
  if (!proved) {
    await recordSecondFactorFailure(deps.pool, deps, userId, answer.kind, { ...facts, purpose });
    throw new DomainError("mfa_proof_required");
  }
  mfaChallenges.inc({ method: answer.kind, result: "success" });
  if (answer.kind === "recovery_code") notifyRecoveryCodeUsed(deps, userId, facts);
}
