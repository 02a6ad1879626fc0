import type { CommonQueryMethods } from "slonik";
import { z } from "zod";
import {
  type AllowlistKind,
  type AllowlistRule,
  allowlistKinds,
  countWaitingUsersByRule,
  findAllowlistRule,
  insertAllowlistRule,
  listAllowlistRules,
  lockAllowlistRule,
  removeAllowlistRule,
} from "../../sql/allowlist-rules.ts";
import {
  listRuleApprovals,
  moveRuleApprovals,
  type RuleApproval,
} from "../../sql/user-approvals.ts";
import { lockUsableAdmins } from "../../sql/user-changes.ts";
import { type AuditedDeps, recordAudit } from "../audit.ts";
import type { Config } from "../config/index.ts";
import { DomainError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { emailAddress, mailDomain } from "../text-input.ts";
import type { Actor } from "../users/administration.ts";
import { withdrawApproval } from "./withdraw-approval.ts";

export { type AllowlistRule, allowlistKinds };

// The same shapes as the table's CHECK constraints, checked first so bad input
// is refused naming the field rather than failing in the database. The API,
// the admin page and the CLI read a rule with it.
const lowerText = (max: number) => z.string().trim().toLowerCase().min(1).max(max);
export const allowlistRuleBody = z.discriminatedUnion("kind", [
  // The same address and domain checks as sign-up: a rule value such as
  // `%@%` is no address, and a rule is matched only by equality anyway.
  z.strictObject({
    kind: z.literal("email"),
    value: emailAddress.transform((email) => email.toLowerCase()),
  }),
  z.strictObject({ kind: z.literal("domain"), value: mailDomain }),
  z.strictObject({
    kind: z.literal("github_org"),
    value: lowerText(39).regex(/^[a-z0-9][a-z0-9-]{0,38}$/, "expected a GitHub organisation"),
  }),
  z.strictObject({
    kind: z.literal("github_team"),
    value: lowerText(140).regex(
      /^[a-z0-9][a-z0-9-]{0,38}\/[a-z0-9_.-]{1,100}$/,
      "expected org/team-slug",
    ),
  }),
]);

/** A rule as the API and `gatehouse allowlist --json` show it. */
export function toRuleView(rule: AllowlistRule) {
  return {
    id: rule.id,
    kind: rule.kind,
    value: rule.value,
    created_by: rule.created_by,
    created_at: rule.created_at.toISOString(),
  };
}

export function allowlistRules(db: CommonQueryMethods): Promise<readonly AllowlistRule[]> {
  return listAllowlistRules(db);
}

/**
 * How many waiting users each email or domain rule would let in at their
 * next sign-in, by rule id (GitHub rules are absent: unknown until then).
 */
export async function waitingUsersByRule(db: CommonQueryMethods): Promise<Map<string, number>> {
  return new Map((await countWaitingUsersByRule(db)).map((r) => [r.id, r.waiting]));
}

export async function addAllowlistRule(
  { pool, logger }: AuditedDeps,
  actor: Actor,
  rule: { kind: AllowlistKind; value: string },
): Promise<AllowlistRule> {
  return pool.transaction(async (tx) => {
    const added = await insertAllowlistRule(tx, { ...rule, createdBy: actor.actorId });
    if (!added) throw new DomainError("rule_exists");
    await auditRuleChange(tx, logger, "admin.allowlist_rule_added", actor, added);
    return added;
  });
}

export type RuleDeletionDeps = AuditedDeps & { config: Pick<Config, "access"> };

/** What deleting a rule would do: how many users it alone lets in (they would lose access). */
export type RuleImpact = {
  rule: AllowlistRule;
  /** Users only this rule lets in: pending again and signed out. */
  unapproved: number;
  /** Users it let in who stay approved by another rule or ADMIN_EMAILS. */
  kept: number;
};

const alone = (approval: RuleApproval) => approval.other_rule_id === null && !approval.admin_email;

/** An impact as the API and `gatehouse allowlist impact --json` show it. */
export function toImpactView(impact: RuleImpact) {
  return { rule: toRuleView(impact.rule), unapproved: impact.unapproved, kept: impact.kept };
}

function impactOf(rule: AllowlistRule, approvals: readonly RuleApproval[]): RuleImpact {
  const unapproved = approvals.filter(alone).length;
  return { rule, unapproved, kept: approvals.length - unapproved };
}

/** What deleting rule `id` would do now; deleteAllowlistRuleAudited does the same count under lock. */
export async function allowlistRuleImpact(
  { pool, config }: Pick<RuleDeletionDeps, "pool" | "config">,
  id: string,
): Promise<RuleImpact> {
  const rule = await findAllowlistRule(pool, id);
  if (!rule) throw new DomainError("rule_not_found");
  return impactOf(
    rule,
    await listRuleApprovals(pool, id, config.access.ADMIN_EMAILS, { lock: false }),
  );
}

/**
 * Deletes a rule and takes back the approvals only it gave, in one
 * transaction: those users are pending again and signed out everywhere
 * (audited `user.unapproved` each, naming the rule); users another rule or
 * ADMIN_EMAILS also lets in keep access, now recorded under that. Users an
 * administrator approved by hand are never touched. `expectedUnapproved`
 * (what the impact showed the administrator): refused with
 * `rule_impact_changed` when the count is different now. Refused with
 * `last_admin` when it would leave no usable administrator.
 */
export async function deleteAllowlistRuleAudited(
  { pool, logger, config }: RuleDeletionDeps,
  actor: Actor,
  id: string,
  { expectedUnapproved }: { expectedUnapproved?: number } = {},
): Promise<RuleImpact> {
  return pool.transaction(async (tx) => {
    // The rule first: an approval it is giving right now (which key-share
    // locks it) commits before this reads who it let in.
    const rule = await lockAllowlistRule(tx, id);
    if (!rule) throw new DomainError("rule_not_found");
    const admins = await lockUsableAdmins(tx);
    const approvals = await listRuleApprovals(tx, id, config.access.ADMIN_EMAILS, { lock: true });
    const impact = impactOf(rule, approvals);
    if (expectedUnapproved !== undefined && expectedUnapproved !== impact.unapproved) {
      throw new DomainError("rule_impact_changed");
    }
    const losing = new Set(approvals.filter(alone).map((a) => a.user_id));
    if (admins.length > 0 && admins.every((admin) => losing.has(admin))) {
      throw new DomainError("last_admin");
    }
    const kept = approvals.filter((a) => !alone(a));
    for (const otherRule of new Set(kept.map((a) => a.other_rule_id))) {
      const users = kept.filter((a) => a.other_rule_id === otherRule).map((a) => a.user_id);
      await moveRuleApprovals(tx, users, otherRule);
    }
    for (const userId of losing) {
      await withdrawApproval(tx, logger, actor, userId, { reason: "allowlist_rule_deleted", rule });
    }
    await removeAllowlistRule(tx, id);
    await auditRuleChange(tx, logger, "admin.allowlist_rule_deleted", actor, rule, {
      unapproved: impact.unapproved,
    });
    return impact;
  });
}

function auditRuleChange(
  tx: CommonQueryMethods,
  logger: Logger,
  eventType: string,
  actor: Actor,
  rule: AllowlistRule,
  extra: Record<string, number> = {},
): Promise<void> {
  return recordAudit(tx, logger, {
    eventType,
    result: "success",
    ...actor,
    context: { rule_id: rule.id, kind: rule.kind, value: rule.value, ...extra },
  });
}
