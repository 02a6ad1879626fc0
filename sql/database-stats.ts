import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";

// Catalog and statistics reads for health reports: pg_stat_*, sizes.
// Nothing here touches application rows.

export const databaseOverviewRow = z.object({
  server_version: z.string(),
  database: z.string(),
  size_bytes: z.number(),
  cache_hit_ratio: z.number().nullable(),
  deadlocks: z.number(),
  connections: z.number().int(),
  max_connections: z.number().int(),
});
export type DatabaseOverview = z.infer<typeof databaseOverviewRow>;

export async function readDatabaseOverview(db: CommonQueryMethods): Promise<DatabaseOverview> {
  return db.one(sql.type(databaseOverviewRow)`
    SELECT current_setting('server_version') AS server_version,
           current_database() AS database,
           pg_database_size(current_database())::float8 AS size_bytes,
           CASE WHEN d.blks_hit + d.blks_read = 0 THEN NULL
                ELSE round(d.blks_hit::numeric / (d.blks_hit + d.blks_read), 4)::float8 END AS cache_hit_ratio,
           d.deadlocks::float8 AS deadlocks,
           (SELECT count(*)::int FROM pg_stat_activity WHERE datname = current_database()) AS connections,
           current_setting('max_connections')::int AS max_connections
    FROM pg_stat_database d WHERE d.datname = current_database()`);
}

export const tableStatsRow = z.object({
  table: z.string(),
  total_bytes: z.number(),
  row_estimate: z.number(),
  dead_rows: z.number(),
  last_autovacuum: z.date().nullable(),
});
export type TableStats = z.infer<typeof tableStatsRow>;

/** Every table of the public schema (partitions included) with its size and row estimate. */
export async function readTableStats(db: CommonQueryMethods): Promise<readonly TableStats[]> {
  return db.any(sql.type(tableStatsRow)`
    SELECT c.relname AS table,
           pg_total_relation_size(c.oid)::float8 AS total_bytes,
           greatest(coalesce(s.n_live_tup, 0), c.reltuples, 0)::float8 AS row_estimate,
           coalesce(s.n_dead_tup, 0)::float8 AS dead_rows,
           greatest(s.last_autovacuum, s.last_vacuum) AS last_autovacuum
    FROM pg_class c
    LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
    WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
    ORDER BY pg_total_relation_size(c.oid) DESC, c.relname`);
}

export const longQueryRow = z.object({
  pid: z.number().int(),
  state: z.string().nullable(),
  seconds: z.number(),
  wait_event: z.string().nullable(),
  query: z.string(),
});

/** Statements (or open transactions) running longer than `minSeconds`, longest first. */
export async function readLongRunningQueries(
  db: CommonQueryMethods,
  minSeconds: number,
): Promise<readonly z.infer<typeof longQueryRow>[]> {
  return db.any(sql.type(longQueryRow)`
    SELECT pid, state,
           extract(epoch FROM now() - coalesce(query_start, xact_start))::float8 AS seconds,
           wait_event, left(query, 200) AS query
    FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid()
      AND state IS DISTINCT FROM 'idle'
      AND now() - coalesce(query_start, xact_start) > make_interval(secs => ${minSeconds})
    ORDER BY seconds DESC LIMIT 20`);
}

export async function hasPgStatStatements(db: CommonQueryMethods): Promise<boolean> {
  return db.oneFirst(sql.type(z.object({ installed: z.boolean() }))`
    SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements') AS installed`);
}

export const slowStatementRow = z.object({
  query: z.string(),
  calls: z.number(),
  mean_ms: z.number(),
  total_ms: z.number(),
});

/** The slowest statements by mean time; only call when pg_stat_statements is installed. */
export async function readSlowStatements(
  db: CommonQueryMethods,
  limit: number,
): Promise<readonly z.infer<typeof slowStatementRow>[]> {
  return db.any(sql.type(slowStatementRow)`
    SELECT left(query, 200) AS query, calls::float8 AS calls,
           round(mean_exec_time::numeric, 2)::float8 AS mean_ms,
           round(total_exec_time::numeric, 2)::float8 AS total_ms
    FROM pg_stat_statements
    WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
    ORDER BY mean_exec_time DESC LIMIT ${limit}`);
}

export async function ping(db: CommonQueryMethods): Promise<void> {
  await db.oneFirst(sql.type(z.object({ one: z.number() }))`SELECT 1 AS one`);
}
