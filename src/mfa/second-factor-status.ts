import type { CommonQueryMethods } from "slonik";
import { countUnusedRecoveryCodes } from "../../sql/mfa-recovery-codes.ts";
import { findTotpOfUser } from "../../sql/mfa-totp.ts";
import { countPasskeysOfUser } from "../../sql/passkeys.ts";

/** What a user sees of their own second factors (never a secret). */
export async function secondFactorStatus(db: CommonQueryMethods, userId: string) {
  const totp = await findTotpOfUser(db, userId);
  return {
    totp: {
      enabled: totp?.confirmed_at != null,
      confirmed_at: totp?.confirmed_at?.toISOString() ?? null,
    },
    recovery_codes_left: await countUnusedRecoveryCodes(db, userId),
    passkeys: await countPasskeysOfUser(db, userId),
  };
}
