import type { CommonQueryMethods } from "slonik";
import { recordAudit } from "../audit.ts";
import type { Logger } from "../logger.ts";
import { logins } from "../metrics.ts";

/**
 * A sign-in that did not complete, whatever the way in and whichever step
 * refused it: `login.failed` with its reason, and the logins counter
 * (result `locked` for a locked account, `failure` otherwise).
 */
export async function recordSignInFailure(
  db: CommonQueryMethods,
  logger: Logger,
  failure: {
    method: string;
    reason: string;
    userId: string | null;
    ip: string | null;
    userAgent: string | null;
    locked?: boolean;
  },
): Promise<void> {
  logins.inc({ method: failure.method, result: failure.locked ? "locked" : "failure" });
  await recordAudit(db, logger, {
    eventType: "login.failed",
    result: "failure",
    userId: failure.userId,
    failureReason: failure.reason,
    ip: failure.ip,
    userAgent: failure.userAgent,
    context: { method: failure.method },
  });
}
