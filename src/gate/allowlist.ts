import type { CommonQueryMethods } from "slonik";
import { z } from "zod";
import {
  type AllowlistKind,
  type AllowlistRule,
  allowlistKinds,
  countWaitingUsersByRule,
  insertAllowlistRule,
  listAllowlistRules,
  removeAllowlistRule,
} from "../../sql/allowlist-rules.ts";
import { type AuditedDeps, recordAudit } from "../audit.ts";
import { DomainError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { emailAddress, mailDomain } from "../text-input.ts";
import type { Actor } from "../users/administration.ts";

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

export async function deleteAllowlistRuleAudited(
  { pool, logger }: AuditedDeps,
  actor: Actor,
  id: string,
): Promise<AllowlistRule> {
  return pool.transaction(async (tx) => {
    const removed = await removeAllowlistRule(tx, id);
    if (!removed) throw new DomainError("rule_not_found");
    await auditRuleChange(tx, logger, "admin.allowlist_rule_deleted", actor, removed);
    return removed;
  });
}

function auditRuleChange(
  tx: CommonQueryMethods,
  logger: Logger,
  eventType: string,
  actor: Actor,
  rule: AllowlistRule,
): Promise<void> {
  return recordAudit(tx, logger, {
    eventType,
    result: "success",
    ...actor,
    context: { rule_id: rule.id, kind: rule.kind, value: rule.value },
  });
}
