import { resolve } from "node:path";
import type { Config } from "../config/index.ts";
import type { Logger } from "../logger.ts";
import { startEmbeddedPostgres } from "./embedded-postgres.ts";
import { connectWithRetry, createDatabasePool, type DatabasePool } from "./pool.ts";
import { explainTlsFailure, withCaFile } from "./tls.ts";

export type OpenDatabase = {
  /** What the pool connects with: DATABASE_URL, or the owner's URL for owner work. */
  url: string;
  /** The schema owner's (DATABASE_MIGRATION_URL, else DATABASE_URL): for migrations. */
  ownerUrl: string;
  /** Where the credential cache listens (DATABASE_LISTEN_URL, else DATABASE_URL). */
  listenUrl: string;
  pool: DatabasePool;
  embedded: boolean;
  close: () => Promise<void>;
};

/** A connection failure restated when TLS is the reason (the driver's words say little). */
function explained(error: unknown): unknown {
  const tls = explainTlsFailure(error);
  return tls ? new Error(tls, { cause: error }) : error;
}

/**
 * DATABASE_URL when set; otherwise the embedded PostgreSQL under DATA_DIR,
 * so a fresh checkout runs with nothing installed. Waits for the database
 * with backoff (DB_MAX_RETRIES, DB_RETRY_DELAY_MS) before returning. `as: "owner"`
 * connects the pool as the schema owner (DATABASE_MIGRATION_URL) for the
 * CLI's owner work; `signal` stops the waiting (a stop signal during start-up).
 */
export async function openDatabase(
  config: Pick<Config, "database" | "runtime">,
  logger: Logger,
  { as = "service", signal }: { as?: "service" | "owner"; signal?: AbortSignal } = {},
): Promise<OpenDatabase> {
  let url = config.database.DATABASE_URL;
  let stopEmbedded = async () => {};
  if (!url) {
    const dataDir = resolve(config.runtime.DATA_DIR);
    const embedded = await startEmbeddedPostgres({ dataDir, logger });
    url = embedded.url;
    stopEmbedded = embedded.stop;
    logger.info(
      { dataDir: resolve(dataDir, "postgres") },
      "no DATABASE_URL: using the embedded PostgreSQL kept in this folder; set DATABASE_URL=postgres://... to use a real server",
    );
  }
  const serviceUrl = withCaFile(url, config.database.DATABASE_CA_FILE);
  const ownerUrl = config.database.DATABASE_MIGRATION_URL
    ? withCaFile(config.database.DATABASE_MIGRATION_URL, config.database.DATABASE_CA_FILE)
    : serviceUrl;
  const listenUrl = config.database.DATABASE_LISTEN_URL
    ? withCaFile(config.database.DATABASE_LISTEN_URL, config.database.DATABASE_CA_FILE)
    : serviceUrl;
  url = as === "owner" ? ownerUrl : serviceUrl;
  let pool: DatabasePool;
  try {
    pool = await connectWithRetry(
      () =>
        createDatabasePool({
          url,
          minPoolSize: config.database.DB_POOL_MIN,
          maxPoolSize: config.database.DB_POOL_MAX,
          connectionTimeoutMs: config.database.DB_CONNECTION_TIMEOUT_MS,
          statementTimeoutMs: config.database.DB_STATEMENT_TIMEOUT_MS,
          slowQueryMs: config.database.DB_SLOW_QUERY_MS,
          preparedStatements: config.database.DB_PREPARED_STATEMENTS,
          logger,
        }),
      {
        maxRetries: config.database.DB_MAX_RETRIES,
        baseDelayMs: config.database.DB_RETRY_DELAY_MS,
        logger,
        signal,
      },
    );
  } catch (error) {
    await stopEmbedded();
    throw explained(error);
  }
  return {
    url,
    ownerUrl,
    listenUrl,
    pool,
    embedded: !config.database.DATABASE_URL,
    close: async () => {
      await pool.end();
      await stopEmbedded();
    },
  };
}
