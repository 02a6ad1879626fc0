import { z } from "zod";
import { auditResults } from "../audit-trail.ts";
import { decodeCursor } from "./cursor.ts";

// An audit trail query, as GET /admin/audit and the console's audit screen
// both read it.

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
