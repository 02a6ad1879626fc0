import { type Runner, run } from "graphile-worker";
import type { DatabasePool } from "slonik";
import { z } from "zod";
import {
  type DueDelivery,
  deliveryTask,
  findPendingDelivery,
  recordDeliveryAttempt,
  releaseAbandonedDeliveryJobs,
} from "../../sql/webhook-deliveries.ts";
import type { WebhooksConfig } from "../config/index.ts";
import { queueLogger, queuePool } from "../db/delivery-queue.ts";
import type { TokenCipher } from "../keys/token-encryption.ts";
import type { Logger } from "../logger.ts";
import { webhookDeliveries } from "../metrics.ts";
import { type DeliveryResult, postDelivery } from "./delivery-request.ts";
import { openWebhookSecret } from "./endpoint-secrets.ts";
import { signedHeaders } from "./signing.ts";

// Every replica runs this worker over the same queue (graphile-worker: jobs
// are taken with FOR UPDATE SKIP LOCKED and woken by LISTEN/NOTIFY), so a
// job is sent by one replica at a time. A job is one attempt: a failure is
// recorded and the next attempt queued, in one statement, after a delay
// that doubles each time, until WEBHOOK_RETRY_WINDOW after the event; then
// the delivery is marked failed. Our own schedule, not the queue's retries,
// so the delivery log says what happened and the delays are configurable.

type WorkerDeps = {
  pool: DatabasePool;
  config: { webhooks: WebhooksConfig };
  logger: Logger;
  tokenCipher: () => Promise<TokenCipher>;
};

const jobPayload = z.object({ delivery_id: z.uuid(), attempt: z.number().int().min(0) });

/** When attempt `attempts + 1` is due after `attempts` failures, or null once the window has passed. */
export function nextAttemptAt(
  createdAt: Date,
  attempts: number,
  config: WebhooksConfig,
  now = new Date(),
): Date | null {
  const deadline = createdAt.getTime() + config.WEBHOOK_RETRY_WINDOW;
  if (now.getTime() >= deadline) return null;
  const delay = config.WEBHOOK_RETRY_DELAY * 2 ** Math.min(attempts - 1, 30);
  return new Date(Math.min(now.getTime() + delay, deadline));
}

/** Sends attempt `attempt + 1` of a delivery and records how it went. */
export async function attemptDelivery(
  { pool, config, logger, tokenCipher }: WorkerDeps,
  job: { deliveryId: string; attempt: number },
): Promise<void> {
  const delivery = await findPendingDelivery(pool, job.deliveryId);
  // Settled, deleted with its endpoint, or a stale job of an attempt already recorded.
  if (!delivery || delivery.attempts !== job.attempt) return;
  const result = await send(delivery, config.webhooks, tokenCipher);
  const attempts = delivery.attempts + 1;
  const next = result.delivered
    ? null
    : nextAttemptAt(delivery.created_at, attempts, config.webhooks);
  const outcome = result.delivered ? "delivered" : next ? "retried" : "failed";
  const recorded = await recordDeliveryAttempt(pool, delivery.id, delivery.attempts, {
    status: result.delivered ? "delivered" : next ? "pending" : "failed",
    responseCode: result.responseCode,
    error: result.error,
    nextAttemptAt: next,
  });
  // A second worker's copy of the same attempt (its job run again) records
  // nothing and is not counted twice.
  if (recorded) webhookDeliveries.inc({ outcome });
  const log = { deliveryId: delivery.id, eventType: delivery.event_type, attempts, recorded };
  if (result.delivered) logger.debug(log, "webhook delivered");
  else if (next)
    logger.info({ ...log, error: result.error, nextAttemptAt: next }, "webhook attempt failed");
  else logger.warn({ ...log, error: result.error }, "webhook delivery failed for good");
}

async function send(
  delivery: DueDelivery,
  config: WebhooksConfig,
  tokenCipher: () => Promise<TokenCipher>,
): Promise<DeliveryResult> {
  let secret: string;
  try {
    secret = await openWebhookSecret(tokenCipher, { ...delivery, id: delivery.endpoint_id });
  } catch {
    // A key missing from TOKEN_ENCRYPTION_KEYS (or a tampered row): an
    // attempt that failed, retried on schedule, so fixing the keys in time
    // loses nothing. The error names no secret.
    return {
      delivered: false,
      responseCode: null,
      error: "the endpoint's signing secret does not open with TOKEN_ENCRYPTION_KEYS",
    };
  }
  const body = JSON.stringify(delivery.payload);
  const headers = signedHeaders(secret, { id: delivery.id, body, at: new Date() });
  return postDelivery(delivery.url, headers, body, {
    allowPrivate: config.WEBHOOK_ALLOW_PRIVATE,
    timeoutMs: config.WEBHOOK_TIMEOUT,
  });
}

export type DeliveryWorker = { stop: () => Promise<void> };

/**
 * How long a job may be held before its worker is taken for dead: an
 * attempt lasts at most WEBHOOK_TIMEOUT and two short statements. A live
 * worker slower than that may send an attempt twice, which receivers
 * deduplicate by webhook-id, as Standard Webhooks asks of them.
 */
export const abandonedAfterMs = (config: WebhooksConfig) =>
  Math.max(2 * config.WEBHOOK_TIMEOUT, config.WEBHOOK_TIMEOUT + 5000);

/** Every replica looks for a dead replica's jobs now and then. */
function startAbandonedJobSweep({ pool, config, logger }: WorkerDeps) {
  const after = abandonedAfterMs(config.webhooks);
  const sweep = () =>
    releaseAbandonedDeliveryJobs(pool, after)
      .then((workers) => {
        if (workers > 0) logger.warn({ workers }, "webhook jobs of stopped workers released");
      })
      .catch((error: unknown) => logger.warn({ err: error }, "webhook job sweep failed"));
  let running: Promise<void> = Promise.resolve();
  const timer = setInterval(
    () => {
      running = running.then(sweep);
    },
    Math.min(after, 30_000),
  );
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}

/**
 * Works the queue in the background: start-up does not wait for it, and
 * graphile-worker, which stops its whole pool when one of its connections
 * fails (a database restart), is started again after a pause that doubles
 * up to 30 s.
 */
export function startDeliveryWorker(
  deps: WorkerDeps & {
    databaseUrl: string;
    /** Other jobs of the same queue, by task name (the OpenID provider's back-channel logouts). */
    tasks?: Record<string, (payload: unknown) => Promise<void>>;
  },
): DeliveryWorker {
  const pgPool = queuePool(deps.databaseUrl, 4, deps.logger);
  const options = {
    pgPool,
    concurrency: 4,
    noHandleSignals: true,
    // A retry's job is found by polling; never wait much longer than the shortest delay.
    pollInterval: Math.min(2000, Math.max(100, deps.config.webhooks.WEBHOOK_RETRY_DELAY)),
    parsedCronItems: [],
    logger: queueLogger(deps.logger),
    taskList: {
      ...deps.tasks,
      [deliveryTask]: async (payload: unknown) => {
        const job = jobPayload.parse(payload);
        await attemptDelivery(deps, { deliveryId: job.delivery_id, attempt: job.attempt });
      },
    },
  };
  let stopping = false;
  let runner: Runner | null = null;
  let wake = () => {};
  const supervised = (async () => {
    for (let pauseMs = 1000; !stopping; pauseMs = Math.min(pauseMs * 2, 30_000)) {
      try {
        runner = await run(options);
        // stop() came while it was starting: it found no runner to stop.
        if (stopping) {
          await runner.stop().catch(() => {});
          break;
        }
        await runner.promise;
        pauseMs = 500;
      } catch (error) {
        if (!stopping) {
          deps.logger.warn(
            { err: error, retryInMs: pauseMs },
            "webhook worker stopped; starting it again",
          );
        }
      }
      if (stopping) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pauseMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  })();
  const stopSweep = startAbandonedJobSweep(deps);
  return {
    stop: async () => {
      stopping = true;
      wake();
      await stopSweep();
      await (runner as Runner | null)?.stop().catch(() => {});
      await supervised;
      await pgPool.end();
    },
  };
}
