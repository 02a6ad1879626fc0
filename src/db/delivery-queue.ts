import { Logger as QueueLogger, runMigrations } from "graphile-worker";
import pg from "pg";
import type { Logger } from "../logger.ts";
import { databaseConnection } from "./tls.ts";

// The webhook delivery queue is graphile-worker, whose schema
// (graphile_worker) is its own: installed and upgraded by its migrations,
// which run right after ours, as the schema owner.

/** graphile-worker's log lines through ours. */
export const queueLogger = (logger: Logger) =>
  new QueueLogger((scope) => (level, message, meta) => {
    const line = { ...scope, ...meta };
    if (level === "error") logger.error(line, message);
    else if (level === "warning") logger.warn(line, message);
    else logger.debug(line, message);
  });

/**
 * A pg pool for graphile-worker, with the same TLS reading of the URL as
 * every other connection. A dropped connection is logged, not thrown: the
 * pool opens another and the queue goes on.
 */
export function queuePool(databaseUrl: string, max: number, logger: Logger): pg.Pool {
  const pool = new pg.Pool({ ...databaseConnection(databaseUrl), max });
  const lost = (error: Error) => logger.warn({ err: error }, "webhook queue connection lost");
  pool.on("error", lost);
  pool.on("connect", (client) => client.on("error", lost));
  return pool;
}

/**
 * Installs or upgrades the queue's schema. On a current schema it only
 * reads its version, so a runtime role without schema rights may run it too.
 */
export async function migrateDeliveryQueue(databaseUrl: string, logger: Logger): Promise<void> {
  const pgPool = queuePool(databaseUrl, 1, logger);
  try {
    await runMigrations({ pgPool, logger: queueLogger(logger) });
  } finally {
    await pgPool.end();
  }
}
