import type { CommonQueryMethods } from "slonik";
import { recordFailedLogin } from "../../sql/users.ts";
import { recordAudit } from "../audit.ts";
import type { Config } from "../config/index.ts";
import type { Logger } from "../logger.ts";
import { accountLockouts } from "../metrics.ts";

/**
 * A wrong secret given for an account (a password, or a second factor after
 * the password): counts toward its lockout. The LOGIN_MAX_FAILURES-th
 * failure in a row locks the account for LOGIN_LOCKOUT, doubling with each
 * further lockout (audited `account.locked`). Nothing is counted while the
 * account is locked already.
 */
export async function countFailedAttempt(
  db: CommonQueryMethods,
  deps: { config: Pick<Config, "limits">; logger: Logger },
  userId: string,
  facts: { ip: string | null; userAgent: string | null },
): Promise<void> {
  const { config, logger } = deps;
  const failed = await recordFailedLogin(db, userId, {
    maxFailures: config.limits.LOGIN_MAX_FAILURES,
    lockoutMs: config.limits.LOGIN_LOCKOUT,
    maxLockoutMs: config.limits.LOGIN_LOCKOUT_MAX,
  });
  if (failed?.just_locked) {
    accountLockouts.inc();
    await recordAudit(db, logger, {
      eventType: "account.locked",
      result: "success",
      userId,
      ...facts,
      context: {
        until: failed.locked_until?.toISOString() ?? null,
        lockout_count: failed.lockout_count,
      },
    });
  }
}
