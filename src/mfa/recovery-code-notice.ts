import { countUnusedRecoveryCodes } from "../../sql/mfa-recovery-codes.ts";
import { findUserById } from "../../sql/users.ts";
import type { Config } from "../config/index.ts";
import { recoveryCodeUsedMail } from "../mail/templates.ts";
import { afterAnswering, deliverLater, link, type MailDeps } from "../password/account-mail.ts";

/**
 * Tells the owner that one of their recovery codes was used, and how many
 * are left. A recovery code stands in for the authenticator, so someone who
 * found the printed codes gets in as the owner: the mail is the owner's
 * chance to notice, and the nudge to make a new set before they run out.
 * Called after the commit that used the code, and sent after the answer (a
 * mail server that is down costs nothing but the mail: `mail.failed`).
 */
export function notifyRecoveryCodeUsed(
  deps: MailDeps & { config: Pick<Config, "http"> },
  userId: string,
  facts: { ip: string | null; userAgent: string | null },
): void {
  afterAnswering(deps, "recovery code notice", async () => {
    const user = await findUserById(deps.pool, userId);
    if (!user?.email) return;
    const left = await countUnusedRecoveryCodes(deps.pool, userId);
    deliverLater(
      deps,
      {
        to: user.email,
        content: recoveryCodeUsedMail(left, link(deps, "/")),
        userId,
        purpose: "recovery_code_used_notice",
      },
      facts,
    );
  });
}
