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
  context?: Record<string, string | number | boolean | null | readonly string[]>;
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

/** An event at a given time (seed data spread over past months). */
export async function insertAuditEventAt(
  db: CommonQueryMethods,
  event: NewAuditEvent & { id: string; occurredAt: Date },
): Promise<void> {
  await db.query(sql.unsafe`
    INSERT INTO audit_events (id, occurred_at, event_type, result, user_id, actor_id, ip, user_agent,
                              failure_reason, context)
    VALUES (${event.id}, ${sql.timestamp(event.occurredAt)}, ${event.eventType}, ${event.result},
            ${event.userId ?? null}, ${event.actorId ?? null}, ${event.ip ?? null},
            ${event.userAgent?.slice(0, 512) ?? null}, ${event.failureReason?.slice(0, 200) ?? null},
            ${sql.jsonb(event.context ?? {})})
    ON CONFLICT DO NOTHING`);
}

export const auditPartitionRow = z.object({ name: z.string(), ends_at: z.date() });

/** The monthly partitions (not the default one), with the instant each one's range ends. */
export async function listAuditMonthPartitions(
  db: CommonQueryMethods,
): Promise<readonly z.infer<typeof auditPartitionRow>[]> {
  return db.any(sql.type(auditPartitionRow)`
    SELECT c.relname AS name,
           (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO [(]''([^'']+)''[)]'))[1]::timestamptz AS ends_at
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'audit_events'::regclass
      AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'
    ORDER BY ends_at`);
}

/**
 * Retention by dropping a whole month: no row-by-row delete, no table bloat.
 * Through a SECURITY DEFINER function, so a runtime role without DDL rights may do it.
 */
export async function dropAuditPartition(db: CommonQueryMethods, name: string): Promise<void> {
  await db.query(sql.unsafe`SELECT drop_audit_partition(${name})`);
}

/** Creates this month's and the next `monthsAhead` months' partitions; returns how many were new. */
export async function ensureAuditPartitions(
  db: CommonQueryMethods,
  monthsAhead: number,
): Promise<number> {
  return db.oneFirst(sql.type(z.object({ created: z.number().int() }))`
    SELECT ensure_audit_partitions(${monthsAhead}) AS created`);
}

/** Rows that fell into the default partition (months with no partition) older than the cutoff. */
export async function deleteDefaultPartitionEventsBefore(
  db: CommonQueryMethods,
  cutoff: Date,
  limit: number,
): Promise<number> {
  const result = await db.query(sql.unsafe`
    DELETE FROM audit_events_default WHERE ctid IN (
      SELECT ctid FROM audit_events_default WHERE occurred_at < ${sql.timestamp(cutoff)}
      LIMIT ${limit})`);
  return result.rowCount;
}

export async function countDefaultPartitionEventsBefore(
  db: CommonQueryMethods,
  cutoff: Date,
): Promise<number> {
  return db.oneFirst(sql.type(z.object({ count: z.number().int() }))`
    SELECT count(*)::int AS count FROM audit_events_default WHERE occurred_at < ${sql.timestamp(cutoff)}`);
}

export const authEventFiguresRow = z.object({
  failed_logins: z.number().int(),
  lockouts: z.number().int(),
});

/**
 * Failed sign-ins (any `login*` event with result failure) and lockouts
 * (`account.locked`) since an instant.
 */
export async function countAuthFailuresSince(
  db: CommonQueryMethods,
  since: Date,
): Promise<z.infer<typeof authEventFiguresRow>> {
  return db.one(sql.type(authEventFiguresRow)`
    SELECT count(*) FILTER (WHERE event_type LIKE 'login%' AND result = 'failure')::int AS failed_logins,
           count(*) FILTER (WHERE event_type = 'account.locked')::int AS lockouts
    FROM audit_events WHERE occurred_at >= ${sql.timestamp(since)}`);
}

export const auditPageRow = auditEventRow.extend({ cursor_occurred_at: z.string() });
export type AuditPageRow = z.infer<typeof auditPageRow>;

export type AuditFilter = {
  userId?: string;
  actorId?: string;
  eventType?: string;
  result?: AuditEvent["result"];
  since?: Date;
  until?: Date;
  /** Keyset cursor: events strictly older than this (occurred_at, id). */
  before?: { occurredAt: string; id: string };
  limit: number;
};

/**
 * Newest first, keyset-paginated on (occurred_at, id), the table's primary
 * key; occurred_at bounds prune the monthly partitions. The cursor's time is
 * rendered to the microsecond (a Date would round it and skip or repeat rows).
 */
export async function listAuditEvents(
  db: CommonQueryMethods,
  filter: AuditFilter,
): Promise<readonly AuditPageRow[]> {
  const conditions = [sql.fragment`TRUE`];
  if (filter.userId) conditions.push(sql.fragment`user_id = ${filter.userId}`);
  if (filter.actorId) conditions.push(sql.fragment`actor_id = ${filter.actorId}`);
  if (filter.eventType) conditions.push(sql.fragment`event_type = ${filter.eventType}`);
  if (filter.result) conditions.push(sql.fragment`result = ${filter.result}`);
  if (filter.since) conditions.push(sql.fragment`occurred_at >= ${sql.timestamp(filter.since)}`);
  if (filter.until) conditions.push(sql.fragment`occurred_at < ${sql.timestamp(filter.until)}`);
  if (filter.before) {
    conditions.push(
      sql.fragment`(occurred_at, id) < (${filter.before.occurredAt}::timestamptz, ${filter.before.id}::uuid)`,
    );
  }
  return db.any(sql.type(auditPageRow)`
    SELECT ${auditColumns},
           to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_occurred_at
    FROM audit_events
    WHERE ${sql.join(conditions, sql.fragment` AND `)}
    ORDER BY occurred_at DESC, id DESC
    LIMIT ${filter.limit}`);
}

/**
 * Every event about the user, newest first (the GDPR export). Events an admin
 * performed on others are about those others and stay out of it.
 */
export async function listAuditEventsAboutUser(
  db: CommonQueryMethods,
  userId: string,
): Promise<readonly AuditEvent[]> {
  return db.any(sql.type(auditEventRow)`
    SELECT ${auditColumns} FROM audit_events
    WHERE user_id = ${userId}
    ORDER BY occurred_at DESC, id DESC`);
}

/** Context keys that can name a person; erased from a deleted user's events. */
export const personalContextKeys = ["email", "username", "full_name", "name", "ip", "user_agent"];

/**
 * After an account is deleted its audit rows stay (they are the security
 * record) but keep only the user id: address, user agent and identifying
 * context keys are erased.
 */
export async function eraseAuditPersonalData(
  db: CommonQueryMethods,
  userId: string,
): Promise<number> {
  const result = await db.query(sql.unsafe`
    UPDATE audit_events
    SET ip = NULL, user_agent = NULL,
        context = context - ${sql.array(personalContextKeys, "text")}
    WHERE user_id = ${userId}`);
  return result.rowCount;
}

/** The events that create an account: a password sign-up, a first provider sign-in. */
export const arrivalEventTypes = ["signup", "user.created"] as const;

export const arrivalRow = z.object({
  arrival_event: z.string().nullable(),
  arrival_context: z.record(z.string(), z.unknown()).nullable(),
});
export type Arrival = z.infer<typeof arrivalRow>;

/** How the user's account was created: its first creating event (nulls when none is kept). */
export async function findArrivalOfUser(db: CommonQueryMethods, userId: string): Promise<Arrival> {
  const found = await db.maybeOne(sql.type(arrivalRow)`
    SELECT event_type AS arrival_event, context AS arrival_context FROM audit_events
    WHERE user_id = ${userId} AND result = 'success'
      AND event_type = ANY(${sql.array([...arrivalEventTypes], "text")})
    ORDER BY occurred_at LIMIT 1`);
  return found ?? { arrival_event: null, arrival_context: null };
}
