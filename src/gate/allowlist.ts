import type { DatabasePool } from "slonik";
import {
  type AllowlistKind,
  type AllowlistRule,
  insertAllowlistRule,
  removeAllowlistRule,
} from "../../sql/allowlist-rules.ts";
import { recordAudit } from "../audit.ts";
import { DomainError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { Actor } from "../users/administration.ts";

type Deps = { pool: DatabasePool; logger: Logger };

export async function addAllowlistRule(
  { pool, logger }: Deps,
  actor: Actor,
  rule: { kind: AllowlistKind; value: string },
): Promise<AllowlistRule> {
  return pool.transaction(async (tx) => {
    const added = await insertAllowlistRule(tx, { ...rule, createdBy: actor.actorId });
    if (!added) throw new DomainError("rule_exists");
    await recordAudit(tx, logger, {
      eventType: "admin.allowlist_rule_added",
      result: "success",
      ...actor,
      context: { rule_id: added.id, kind: added.kind, value: added.value },
    });
    return added;
  });
}

export async function deleteAllowlistRuleAudited(
  { pool, logger }: Deps,
  actor: Actor,
  id: string,
): Promise<AllowlistRule> {
  return pool.transaction(async (tx) => {
    const removed = await removeAllowlistRule(tx, id);
    if (!removed) throw new DomainError("rule_not_found");
    await recordAudit(tx, logger, {
      eventType: "admin.allowlist_rule_deleted",
      result: "success",
      ...actor,
      context: { rule_id: removed.id, kind: removed.kind, value: removed.value },
    });
    return removed;
  });
}
