import { type CommonQueryMethods, type FragmentSqlToken, sql } from "slonik";
import { z } from "zod";

// Deliveries and their jobs in the queue (graphile-worker, whose
// add_job() is plain SQL): a delivery row and the job that sends it are
// written by one statement, inside the caller's transaction.

export const deliveryStatuses = ["pending", "delivered", "failed"] as const;

/** The queue's task that sends one attempt of a delivery. */
export const deliveryTask = "deliver_webhook";

export const webhookDeliveryRow = z.object({
  id: z.uuid(),
  endpoint_id: z.uuid(),
  event_type: z.string(),
  status: z.enum(deliveryStatuses),
  attempts: z.number().int(),
  last_response_code: z.number().int().nullable(),
  last_error: z.string().nullable(),
  created_at: z.date(),
  last_attempt_at: z.date().nullable(),
  next_attempt_at: z.date().nullable(),
});
export type WebhookDelivery = z.infer<typeof webhookDeliveryRow>;

const deliveryColumns = sql.fragment`
  id, endpoint_id, event_type, status, attempts, last_response_code, last_error, created_at,
  last_attempt_at, next_attempt_at`;

/**
 * The job of one attempt. Its key makes a job re-added for the same
 * delivery replace a waiting one, and `attempt` lets a stale job (one whose
 * worker died after the attempt was recorded) see it is not due.
 */
const addDeliveryJob = (
  deliveryId: FragmentSqlToken | string,
  attempt: FragmentSqlToken | number,
  runAt: Date | null,
) =>
  sql.fragment`graphile_worker.add_job(
    ${deliveryTask},
    json_build_object('delivery_id', ${deliveryId}::uuid, 'attempt', ${attempt}::int),
    run_at := ${runAt ? sql.timestamp(runAt) : null}::timestamptz,
    job_key := 'webhook-delivery:' || ${deliveryId}::text)`;

/** A delivery (and its job) for every endpoint subscribed to `eventType`; how many. */
export async function enqueueDeliveries(
  db: CommonQueryMethods,
  event: { eventType: string; payload: Record<string, unknown> },
): Promise<number> {
  return db.oneFirst(sql.type(z.object({ queued: z.number().int() }))`
    WITH deliveries AS (
      INSERT INTO webhook_deliveries (endpoint_id, event_type, payload)
      SELECT id, ${event.eventType}, ${sql.jsonb(event.payload as never)}
      FROM webhook_endpoints WHERE ${event.eventType} = ANY (events)
      RETURNING id
    )
    SELECT count(${addDeliveryJob(sql.fragment`id`, 0, null)})::int AS queued FROM deliveries`);
}

/** A delivery (and its job) to one endpoint, whatever it subscribes to (a test event). */
export async function enqueueDeliveryTo(
  db: CommonQueryMethods,
  endpointId: string,
  event: { eventType: string; payload: Record<string, unknown> },
): Promise<WebhookDelivery | null> {
  return db.maybeOne(sql.type(webhookDeliveryRow)`
    WITH delivery AS (
      INSERT INTO webhook_deliveries (endpoint_id, event_type, payload)
      SELECT id, ${event.eventType}, ${sql.jsonb(event.payload as never)}
      FROM webhook_endpoints WHERE id = ${endpointId}
      RETURNING ${deliveryColumns}
    ), job AS (
      SELECT ${addDeliveryJob(sql.fragment`(SELECT id FROM delivery)`, 0, null)}
      WHERE EXISTS (SELECT 1 FROM delivery)
    )
    SELECT ${deliveryColumns} FROM delivery WHERE (SELECT count(*) FROM job) >= 0`);
}

export const dueDeliveryRow = z.object({
  id: z.uuid(),
  event_type: z.string(),
  payload: z.record(z.string(), z.unknown()),
  attempts: z.number().int(),
  created_at: z.date(),
  endpoint_id: z.uuid(),
  url: z.string(),
  /** Exactly one is set: see webhook-endpoints.ts. */
  secret: z.string().nullable(),
  sealed_secret: z.string().nullable(),
});
export type DueDelivery = z.infer<typeof dueDeliveryRow>;

/** A pending delivery with what sending it needs; null once it is settled or its endpoint is gone. */
export async function findPendingDelivery(
  db: CommonQueryMethods,
  id: string,
): Promise<DueDelivery | null> {
  return db.maybeOne(sql.type(dueDeliveryRow)`
    SELECT d.id, d.event_type, d.payload, d.attempts, d.created_at, d.endpoint_id, e.url,
           e.secret, e.sealed_secret
    FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
    WHERE d.id = ${id} AND d.status = 'pending'`);
}

export type AttemptOutcome = {
  status: (typeof deliveryStatuses)[number];
  responseCode: number | null;
  error: string | null;
  nextAttemptAt: Date | null;
};

/**
 * Records attempt number `attempts + 1` of a pending delivery, and for a
 * retry queues its next job, in one statement. Conditional on the attempts
 * seen before sending: a second worker that sent the same attempt (a job
 * run again after its worker died) records nothing; false then.
 */
export async function recordDeliveryAttempt(
  db: CommonQueryMethods,
  id: string,
  attemptsBefore: number,
  outcome: AttemptOutcome,
): Promise<boolean> {
  const next = outcome.status === "pending" ? outcome.nextAttemptAt : null;
  const recorded = await db.maybeOne(sql.type(z.object({ id: z.uuid() }))`
    WITH attempt AS (
      UPDATE webhook_deliveries
      SET attempts = attempts + 1, status = ${outcome.status},
          last_response_code = ${outcome.responseCode}, last_error = ${outcome.error},
          last_attempt_at = now(),
          next_attempt_at = ${next ? sql.timestamp(next) : null}::timestamptz
      WHERE id = ${id} AND status = 'pending' AND attempts = ${attemptsBefore}
      RETURNING id
    ), job AS (
      SELECT ${addDeliveryJob(id, attemptsBefore + 1, next)}
      FROM attempt WHERE ${next !== null}
    )
    SELECT id FROM attempt WHERE (SELECT count(*) FROM job) >= 0`);
  return recorded !== null;
}

/** An endpoint's deliveries, newest first. */
export async function listDeliveriesOfEndpoint(
  db: CommonQueryMethods,
  endpointId: string,
  limit: number,
): Promise<readonly WebhookDelivery[]> {
  return db.any(sql.type(webhookDeliveryRow)`
    SELECT ${deliveryColumns} FROM webhook_deliveries
    WHERE endpoint_id = ${endpointId}
    ORDER BY created_at DESC, id DESC
    LIMIT ${limit}`);
}

/**
 * Gives back the delivery jobs of workers that took one longer ago than any
 * live attempt lasts (their process died mid-attempt): graphile-worker by
 * itself waits four hours. How many workers were released.
 */
export async function releaseAbandonedDeliveryJobs(
  db: CommonQueryMethods,
  takenBeforeMsAgo: number,
): Promise<number> {
  return db.oneFirst(sql.type(z.object({ workers: z.number().int() }))`
    WITH abandoned AS (
      SELECT array_agg(DISTINCT locked_by) AS workers FROM graphile_worker.jobs
      WHERE task_identifier = ${deliveryTask}
        AND locked_at < now() - make_interval(secs => ${takenBeforeMsAgo / 1000})
    ), released AS (
      SELECT graphile_worker.force_unlock_workers(workers) FROM abandoned WHERE workers IS NOT NULL
    )
    SELECT coalesce(cardinality(workers), 0)::int AS workers FROM abandoned
    WHERE (SELECT count(*) FROM released) >= 0`);
}

/** A job for every pending delivery (after a restore: the queue is not in backups); how many. */
export async function requeuePendingDeliveries(db: CommonQueryMethods): Promise<number> {
  return db.oneFirst(sql.type(z.object({ queued: z.number().int() }))`
    SELECT count(${addDeliveryJob(sql.fragment`id`, sql.fragment`attempts`, null)})::int AS queued
    FROM webhook_deliveries WHERE status = 'pending'`);
}
