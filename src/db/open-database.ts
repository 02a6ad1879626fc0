import { resolve } from "node:path";
import type { Config } from "../config.ts";
import type { Logger } from "../logger.ts";
import { startEmbeddedPostgres } from "./embedded-postgres.ts";
import { connectWithRetry, createDatabasePool, type DatabasePool } from "./pool.ts";

export type OpenDatabase = {
  url: string;
  pool: DatabasePool;
  embedded: boolean;
  close: () => Promise<void>;
};

/**
 * DATABASE_URL when set; otherwise the embedded PostgreSQL under DATA_DIR,
 * so a fresh checkout runs with nothing installed. Waits for the database
 * with backoff (DB_MAX_RETRIES, DB_RETRY_DELAY_MS) before returning.
 */
export async function openDatabase(
  config: Config,
  logger: Logger,
  /** Start-up stops waiting for the database once this aborts (a stop signal). */
  signal?: AbortSignal,
): Promise<OpenDatabase> {
  let url = config.DATABASE_URL;
  let stopEmbedded = async () => {};
  if (!url) {
    const dataDir = resolve(config.DATA_DIR);
    const embedded = await startEmbeddedPostgres({ dataDir, logger });
    url = embedded.url;
    stopEmbedded = embedded.stop;
    logger.info(
      { dataDir: resolve(dataDir, "postgres") },
      "no DATABASE_URL: using the embedded PostgreSQL kept in this folder; set DATABASE_URL=postgres://... to use a real server",
    );
  }
  let pool: DatabasePool;
  try {
    pool = await connectWithRetry(
      () =>
        createDatabasePool({
          url,
          minPoolSize: config.DB_POOL_MIN,
          maxPoolSize: config.DB_POOL_MAX,
          connectionTimeoutMs: config.DB_CONNECTION_TIMEOUT_MS,
          statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
          slowQueryMs: config.DB_SLOW_QUERY_MS,
          logger,
        }),
      { maxRetries: config.DB_MAX_RETRIES, baseDelayMs: config.DB_RETRY_DELAY_MS, logger, signal },
    );
  } catch (error) {
    await stopEmbedded();
    throw error;
  }
  return {
    url,
    pool,
    embedded: !config.DATABASE_URL,
    close: async () => {
      await pool.end();
      await stopEmbedded();
    },
  };
}
