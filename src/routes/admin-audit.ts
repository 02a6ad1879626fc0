import type { DatabasePool } from "slonik";
import { z } from "zod";
import { auditEventView, pageOfAuditEvents, toAuditView } from "../audit-trail.ts";
import { ApiRoutes, operationsOf } from "../http/api-route.ts";
import { auditFilterOf, auditQuery } from "../http/audit-query.ts";
import { encodeCursor } from "../http/cursor.ts";
import { readQuery } from "../http/query-params.ts";

const adminOperation = operationsOf({ tag: "admin", access: "admin" });

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
