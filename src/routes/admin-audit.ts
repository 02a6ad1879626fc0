import type { DatabasePool } from "slonik";
import { z } from "zod";
import { auditEventView, auditResults, pageOfAuditEvents, toAuditView } from "../audit-trail.ts";
import { ApiRoutes, operationsOf } from "../http/api-route.ts";
import { decodeCursor, encodeCursor } from "../http/cursor.ts";
import { readQuery } from "../http/query-params.ts";

const adminOperation = operationsOf({ tag: "admin", access: "admin" });

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

/** The filter an audit query asks for, its cursor decoded (a bad one is a 400 `validation_failed`). */
export function auditFilterOf(query: z.infer<typeof auditQuery>) {
  const cursor = query.cursor ? decodeCursor(query.cursor) : undefined;
  return {
    userId: query.user_id,
    actorId: query.actor_id,
    eventType: query.event_type,
    result: query.result,
    since: query.since,
    until: query.until,
    before: cursor ? { occurredAt: cursor.time, id: cursor.id } : undefined,
  };
}

export function adminAuditRoutes({ pool }: { pool: DatabasePool }) {
  const routes = new ApiRoutes();

  routes.add(
    adminOperation("GET /admin/audit", "listAuditEvents", {
      summary: "Audit events, newest first, keyset cursor",
      query: auditQuery,
      responses: {
        200: {
          description: "A page of events; next_cursor asks for the next one",
          body: z.object({
            events: z.array(auditEventView),
            next_cursor: z.string().nullable(),
          }),
        },
      },
    }),
    async (c) => {
      const query = readQuery(c, auditQuery);
      const { page, next } = await pageOfAuditEvents(pool, auditFilterOf(query), query.limit);
      return c.json({
        events: page.map(toAuditView),
        next_cursor: next ? encodeCursor(next.occurredAt, next.id) : null,
      });
    },
  );

  return routes;
}
