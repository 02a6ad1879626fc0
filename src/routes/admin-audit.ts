import { Hono } from "hono";
import type { DatabasePool } from "slonik";
import { z } from "zod";
import { type AuditEvent, auditResults, listAuditEvents } from "../../sql/audit-events.ts";
import type { AppEnv } from "../http/app-env.ts";
import { decodeCursor, encodeCursor } from "../http/cursor.ts";
import { requireAdmin } from "../http/gate.ts";
import type { ApiRoute } from "../http/openapi.ts";
import { readQuery } from "../http/query-params.ts";

const instant = z.iso.datetime({ offset: true }).transform((v) => new Date(v));

export const auditQuery = z
  .object({
    user_id: z.uuid().optional(),
    actor_id: z.uuid().optional(),
    event_type: z
      .string()
      .max(100)
      .regex(
        /^[a-z_]+(\.[a-z_]+)*$/,
        "expected a dotted lower-case event type such as login.failed",
      )
      .optional(),
    result: z.enum(auditResults).optional(),
    since: instant.optional(),
    until: instant.optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z.string().max(200).optional(),
  })
  .refine((q) => !q.since || !q.until || q.since < q.until, {
    message: "since must be before until",
    path: ["since"],
  });

export function toAuditView(event: AuditEvent) {
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

export function adminAuditRoutes({ pool }: { pool: DatabasePool }) {
  const app = new Hono<AppEnv>();

  app.get("/admin/audit", requireAdmin(), async (c) => {
    const query = readQuery(c, auditQuery);
    const cursor = query.cursor ? decodeCursor(query.cursor) : undefined;
    const rows = await listAuditEvents(pool, {
      userId: query.user_id,
      actorId: query.actor_id,
      eventType: query.event_type,
      result: query.result,
      since: query.since,
      until: query.until,
      before: cursor ? { occurredAt: cursor.time, id: cursor.id } : undefined,
      limit: query.limit + 1,
    });
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return c.json({
      events: page.map(toAuditView),
      next_cursor:
        rows.length > query.limit && last ? encodeCursor(last.cursor_occurred_at, last.id) : null,
    });
  });

  return app;
}

export const adminAuditApi: ApiRoute[] = [
  {
    method: "get",
    path: "/admin/audit",
    summary: "Audit events, newest first, keyset cursor",
    tag: "admin",
    access: "admin",
    query: auditQuery,
    responses: { 200: { description: "{events, next_cursor}" } },
  },
];
