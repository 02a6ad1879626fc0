import type { CommonQueryMethods } from "slonik";
import type { AllowlistRule } from "../../sql/allowlist-rules.ts";
import { withdrawRuleApproval } from "../../sql/user-approvals.ts";
import { recordAudit } from "../audit.ts";
import type { Logger } from "../logger.ts";
import { type Actor, revokeAllAccess } from "../users/administration.ts";

// Taking back what an allowlist rule gave: the user is pending again and
// signed out everywhere, audited `user.unapproved` (one row per user, naming
// the rule) in the same transaction. An administrator's approval is never
// taken back here (withdrawRuleApproval checks it in the statement).

export type WithdrawalReason =
  | "allowlist_rule_deleted"
  | "github_membership_ended"
  | "github_token_revoked";

/** True when the user lost access; false when an administrator decided meanwhile. Call inside a transaction. */
export async function withdrawApproval(
  tx: CommonQueryMethods,
  logger: Logger,
  actor: Actor,
  userId: string,
  withdrawal: { reason: WithdrawalReason; rule: AllowlistRule },
): Promise<boolean> {
  const user = await withdrawRuleApproval(tx, userId);
  if (!user) return false;
  const revoked = await revokeAllAccess(tx, userId, "rule:unapproved");
  await recordAudit(tx, logger, {
    eventType: "user.unapproved",
    result: "success",
    userId,
    ...actor,
    context: {
      reason: withdrawal.reason,
      rule_id: withdrawal.rule.id,
      allowlist_rule: `${withdrawal.rule.kind}:${withdrawal.rule.value}`,
      revoked_sessions: revoked.sessions,
      revoked_refresh_tokens: revoked.refreshTokens,
    },
  });
  return true;
}
