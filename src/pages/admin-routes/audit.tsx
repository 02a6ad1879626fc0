import { Hono } from "hono";
import type { DatabasePool } from "slonik";
import { pageOfAuditEvents } from "../../audit-trail.ts";
import type { AppEnv } from "../../http/app-env.ts";
import { auditFilterOf, auditQuery } from "../../http/audit-query.ts";
import { encodeCursor } from "../../http/cursor.ts";
import { labelsOfUsers, userIdOfEmail } from "../../users/user-list.ts";
import { type AuditFilterFields, AuditLog, auditFilterNames } from "../admin/audit.tsx";
import { Layout } from "../admin/layout.tsx";
import { filledQuery, filterOrProblem, frameOf, requireAdminPage } from "./answers.tsx";

// The console's audit log: the trail filtered as typed, a page at a time.

/** The id no user has: the filter for an address that names nobody. */
const nobody = "00000000-0000-0000-0000-000000000000";

/** A `datetime-local` field's value (no zone; the page says UTC) as an ISO instant. */
const asUtcInstant = (value: string | undefined) =>
  value && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value)
    ? `${value.length === 16 ? `${value}:00` : value}Z`
    : value;

export function adminAuditScreen({ pool }: { pool: DatabasePool }) {
  const app = new Hono<AppEnv>();

  app.get("/admin/view/audit", requireAdminPage(), async (c) => {
    const frame = await frameOf(c, pool, "audit");
    const typed = filledQuery(c);
    const fields: AuditFilterFields = Object.fromEntries(
      auditFilterNames.filter((name) => typed[name] !== undefined).map((n) => [n, typed[n]]),
    );
    // A person is named by address or id; an address nobody has matches nothing.
    const idOf = async (value: string | undefined) =>
      value?.includes("@") ? ((await userIdOfEmail(pool, value)) ?? nobody) : value;
    const parsed = auditQuery.safeParse({
      ...typed,
      user_id: await idOf(typed.user_id),
      actor_id: await idOf(typed.actor_id),
      since: asUtcInstant(typed.since),
      until: asUtcInstant(typed.until),
      limit: "50",
    });
    const { filter, problem } = filterOrProblem(parsed, auditFilterOf);
    const events = filter ? await pageOfAuditEvents(pool, filter, 50) : { page: [], next: null };
    const labels = await labelsOfUsers(
      pool,
      events.page.flatMap((e) => [e.user_id, e.actor_id]),
    );
    const params = new URLSearchParams(fields as Record<string, string>);
    const base = `/admin/view/audit${params.size ? `?${params}` : ""}`;
    let nextHref: string | null = null;
    if (events.next) {
      params.set("cursor", encodeCursor(events.next.occurredAt, events.next.id));
      nextHref = `/admin/view/audit?${params}`;
    }
    return c.html(
      <Layout title="Audit log" frame={frame} {...(problem ? { error: problem } : {})}>
        <AuditLog
          fields={fields}
          events={events.page}
          labels={labels}
          nextHref={nextHref}
          firstHref={typed.cursor ? base : null}
        />
      </Layout>,
      problem ? 400 : 200,
    );
  });

  return app;
}
