import type { DatabasePool } from "slonik";
import { deleteRecoveryCodesOfUser } from "../../sql/mfa-recovery-codes.ts";
import { deleteTotpOfUser } from "../../sql/mfa-totp.ts";
import { deletePasskeysOfUser } from "../../sql/passkeys.ts";
import { deletePendingSignInsOfUser } from "../../sql/pending-sign-ins.ts";
import { findUserById } from "../../sql/users.ts";
import { recordAudit } from "../audit.ts";
import type { Config } from "../config/index.ts";
import { DomainError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { Mailer } from "../mail/mailer.ts";
import { secondFactorsResetMail } from "../mail/templates.ts";
import { deliverLater } from "../password/account-mail.ts";
import type { Actor } from "../users/administration.ts";

// An administrator resets a user's second factors (the user lost their
// phone and their recovery codes): the authenticator and the recovery codes
// go, and so do the user's pending sign-ins, which were waiting for them.
// The user is told by mail, so a reset they did not ask for does not go
// unnoticed. Where policy requires a second factor, their next sign-in
// makes them enrol a new one before anything else.

export type MfaResetDeps = {
  config: Pick<Config, "http">;
  pool: DatabasePool;
  logger: Logger;
  mailer: Mailer;
};

export type MfaReset = {
  totp_removed: boolean;
  recovery_codes_removed: number;
  passkeys_removed: number;
};

export async function resetSecondFactors(
  deps: MfaResetDeps,
  actor: Actor,
  userId: string,
): Promise<MfaReset> {
  const { pool, logger } = deps;
  const { user, reset } = await pool.transaction(async (tx) => {
    const user = await findUserById(tx, userId);
    if (!user || user.status === "deleted") throw new DomainError("user_not_found");
    const reset: MfaReset = {
      totp_removed: await deleteTotpOfUser(tx, userId),
      recovery_codes_removed: await deleteRecoveryCodesOfUser(tx, userId),
      passkeys_removed: await deletePasskeysOfUser(tx, userId),
    };
    await deletePendingSignInsOfUser(tx, userId);
    if (removedAny(reset)) {
      await recordAudit(tx, logger, {
        eventType: "mfa.removed",
        result: "success",
        userId,
        ...actor,
        context: { method: "all", by_admin: true, ...reset },
      });
    }
    return { user, reset };
  });
  if (user.email && removedAny(reset)) {
    deliverLater(
      deps,
      {
        to: user.email,
        content: secondFactorsResetMail(`${deps.config.http.PUBLIC_URL}/`),
        userId,
        purpose: "mfa_reset_notice",
      },
      { ip: actor.ip, userAgent: actor.userAgent },
    );
  }
  return reset;
}

const removedAny = (reset: MfaReset) =>
  reset.totp_removed || reset.recovery_codes_removed > 0 || reset.passkeys_removed > 0;
