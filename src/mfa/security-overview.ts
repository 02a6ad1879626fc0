import type { DatabasePool } from "slonik";
import { countUnusedRecoveryCodes } from "../../sql/mfa-recovery-codes.ts";
import { findTotpOfUser } from "../../sql/mfa-totp.ts";
import type { Config } from "../config/index.ts";
import type { Logger } from "../logger.ts";
import { listPasskeys, type PasskeyView } from "../passkeys/registration.ts";
import { type StepUpProof, stepUpProofOf } from "../sign-in/reauth.ts";

// What the account security page shows of a user's own sign-in methods:
// never a secret, only whether each is there.

export type SecurityOverview = {
  /** "pending": an enrolment was started and its first code not given yet. */
  totp: "off" | "pending" | "on";
  recoveryCodesLeft: number;
  passkeys: PasskeyView[];
  /** How this user can step up (POST /auth/reauth) when a change needs a recent sign-in. */
  stepUp: StepUpProof;
};

export async function securityOverview(
  deps: { config: Pick<Config, "http">; pool: DatabasePool; logger: Logger },
  userId: string,
): Promise<SecurityOverview> {
  const [totp, recoveryCodesLeft, passkeys, stepUp] = await Promise.all([
    findTotpOfUser(deps.pool, userId),
    countUnusedRecoveryCodes(deps.pool, userId),
    listPasskeys(deps, userId),
    stepUpProofOf(deps.pool, userId),
  ]);
  return {
    totp: !totp ? "off" : totp.confirmed_at ? "on" : "pending",
    recoveryCodesLeft,
    passkeys,
    stepUp,
  };
}
