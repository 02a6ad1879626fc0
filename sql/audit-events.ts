import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";

export const auditResults = ["success", "failure"] as const;

export const auditEventRow = z.object({
  id: z.uuid(),
  occurred_at: z.date(),
  event_type: z.string(),
  result: z.enum(auditResults),
  user_id: z.uuid().nullable(),
  actor_id: z.uuid().nullable(),
  ip: z.string().nullable(),
  user_agent: z.string().nullable(),
  failure_reason: z.string().nullable(),
  context: z.record(z.string(), z.unknown()),
});
export type AuditEvent = z.infer<typeof auditEventRow>;

const auditColumns = sql.fragment`
  id, occurred_at, event_type, result, user_id, actor_id, host(ip) AS ip, user_agent,
  failure_reason, context`;

export type NewAuditEvent = {
  eventType: string;
  result: AuditEvent["result"];
  userId?: string | null;
  actorId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  failureReason?: string | null;
  context?: Record<string, string | number | boolean | null>;
};

export async function insertAuditEvent(
  db: CommonQueryMethods,
  event: NewAuditEvent,
): Promise<AuditEvent> {
  return db.one(sql.type(auditEventRow)`
    INSERT INTO audit_events (event_type, result, user_id, actor_id, ip, user_agent, failure_reason, context)
    VALUES (${event.eventType}, ${event.result}, ${event.userId ?? null}, ${event.actorId ?? null},
            ${event.ip ?? null}, ${event.userAgent?.slice(0, 512) ?? null},
            ${event.failureReason?.slice(0, 200) ?? null}, ${sql.jsonb(event.context ?? {})})
    RETURNING ${auditColumns}`);
}

/** Newest first. */
export async function listAuditEventsOfUser(
  db: CommonQueryMethods,
  userId: string,
  limit = 100,
): Promise<readonly AuditEvent[]> {
  return db.any(sql.type(auditEventRow)`
    SELECT ${auditColumns} FROM audit_events
    WHERE user_id = ${userId}
    ORDER BY occurred_at DESC, id DESC
    LIMIT ${limit}`);
}
