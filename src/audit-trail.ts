import type { CommonQueryMethods } from "slonik";
import { z } from "zod";
import {
  type AuditEvent,
  type AuditFilter,
  auditEventRow,
  auditResults,
  listAuditEvents,
} from "../sql/audit-events.ts";
import { readKeysetPage } from "./keyset-page.ts";

// Reading the audit trail (src/audit.ts writes it): the admin API's pages
// of events, and the admin page's trail of one user (src/users/user-record.ts).

export { type AuditEvent, auditResults };

/** An event as the admin API shows it: the row, its time as an ISO string. */
export const auditEventView = auditEventRow
  .extend({ occurred_at: z.iso.datetime() })
  .meta({ id: "AuditEvent", description: "One entry of the audit trail" });

export function toAuditView(event: AuditEvent): z.infer<typeof auditEventView> {
  return {
    id: event.id,
    occurred_at: event.occurred_at.toISOString(),
    event_type: event.event_type,
    result: event.result,
    user_id: event.user_id,
    actor_id: event.actor_id,
    ip: event.ip,
    user_agent: event.user_agent,
    failure_reason: event.failure_reason,
    context: event.context,
  };
}

/** One page of events, newest first. */
export const pageOfAuditEvents = (
  db: CommonQueryMethods,
  filter: Omit<AuditFilter, "limit">,
  limit: number,
) =>
  readKeysetPage(
    (n) => listAuditEvents(db, { ...filter, limit: n }),
    limit,
    (e) => ({ occurredAt: e.cursor_occurred_at, id: e.id }),
  );
