import {
  createPool,
  createTypeParserPreset,
  type DatabasePool,
  type Interceptor,
  type QueryResultRow,
  SchemaValidationError,
  sql,
} from "slonik";
import type { Logger } from "../logger.ts";
import { databaseConnection } from "./tls.ts";

export type { DatabasePool };

export type PoolOptions = {
  url: string;
  minPoolSize: number;
  maxPoolSize: number;
  connectionTimeoutMs: number;
  statementTimeoutMs: number;
  slowQueryMs: number;
  logger: Logger;
  /**
   * Run the queries sql/ declares with sql.prepared as named prepared
   * statements (the default). Off for a pooler that cannot keep them
   * (PgBouncer before 1.21, or max_prepared_statements = 0).
   */
  preparedStatements?: boolean;
};

// timestamptz comes back as a Date everywhere (slonik's default is epoch
// milliseconds), so row parsers say z.date() and code never guesses the unit.
const typeParsers = [
  ...createTypeParserPreset().filter((parser) => parser.name !== "timestamptz"),
  {
    name: "timestamptz",
    parse: (value: string) => new Date(value),
  },
];

// slonik passes a query's sql.type() schema along but does not apply it by
// itself: this is what makes every row go through its zod parser.
const rowParser: Interceptor = {
  name: "gatehouse.row-parser",
  transformRow: (context, query, row) => {
    const parser = context.resultParser;
    if (!parser) return row;
    const result = parser["~standard"].validate(row);
    if (result instanceof Promise) throw new TypeError("row parsers must be synchronous");
    if (result.issues) throw new SchemaValidationError(query, row, result.issues);
    return result.value as QueryResultRow;
  },
};

function slowQueryLogger(thresholdMs: number, logger: Logger): Interceptor {
  return {
    name: "gatehouse.slow-query",
    afterQueryExecution: (context, query) => {
      const elapsedMs = Number(process.hrtime.bigint() - BigInt(context.queryInputTime)) / 1e6;
      if (elapsedMs >= thresholdMs) {
        // The SQL text only: parameter values may carry secrets or personal data.
        logger.warn({ elapsedMs: Math.round(elapsedMs), sql: query.sql }, "slow query");
      }
      return null;
    },
  };
}

// The hot checks (sql/session-checks.ts, sql/revoked-access-tokens.ts) are named
// prepared statements: PostgreSQL plans them once per connection and the
// driver sends no query text, which halves the client's CPU per check. A
// pooler that cannot keep prepared statements gets them unnamed.
const unnamedStatements: Interceptor = {
  name: "gatehouse.unnamed-statements",
  transformQuery: (_context, query) => ({ sql: query.sql, values: query.values }),
};

export async function createDatabasePool(options: PoolOptions): Promise<DatabasePool> {
  const { connectionString, ssl } = databaseConnection(options.url);
  return createPool(connectionString, {
    ...(ssl ? { ssl } : {}),
    minPoolSize: options.minPoolSize,
    maxPoolSize: options.maxPoolSize,
    connectionTimeout: options.connectionTimeoutMs,
    statementTimeout: options.statementTimeoutMs,
    idleTimeout: 30_000,
    // No session state is ever set on a pooled connection, so slonik's default
    // DISCARD ALL on release is a wasted round trip on every request.
    resetConnection: async () => {},
    typeParsers,
    interceptors: [
      rowParser,
      slowQueryLogger(options.slowQueryMs, options.logger),
      ...(options.preparedStatements === false ? [unnamedStatements] : []),
    ],
  });
}

/**
 * Opens the pool at start-up, trying again when the database is not there
 * yet: attempt n sleeps baseDelayMs × 2^n before the next one, so a database
 * that comes up a few seconds after us (any container orchestrator) is fine.
 * slonik's createPool itself connects and throws, so it is inside the loop.
 */
export async function connectWithRetry(
  connect: () => Promise<DatabasePool>,
  {
    maxRetries,
    baseDelayMs,
    logger,
    signal,
  }: { maxRetries: number; baseDelayMs: number; logger: Logger; signal?: AbortSignal },
): Promise<DatabasePool> {
  for (let attempt = 0; ; attempt++) {
    signal?.throwIfAborted();
    let pool: DatabasePool | null = null;
    try {
      pool = await connect();
      await pool.oneFirst(sql.unsafe`SELECT 1`);
      if (attempt > 0) logger.info({ attempt: attempt + 1 }, "database reachable");
      return pool;
    } catch (error) {
      await pool?.end().catch(() => {});
      if (attempt >= maxRetries) throw error;
      const delayMs = baseDelayMs * 2 ** attempt;
      logger.warn(
        { attempt: attempt + 1, of: maxRetries + 1, retryInMs: delayMs, err: error },
        "database not reachable yet",
      );
      await sleepUnlessAborted(delayMs, signal);
    }
  }
}

function sleepUnlessAborted(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}
