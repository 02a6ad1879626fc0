import type { DatabasePool } from "slonik";
import { countAuthFailuresSince } from "../../sql/audit-events.ts";
import {
  hasPgStatStatements,
  ping,
  readDatabaseOverview,
  readLongRunningQueries,
  readSlowStatements,
  readTableStats,
} from "../../sql/database-stats.ts";
import { countLiveRefreshFamilies } from "../../sql/refresh-tokens.ts";
import { countLiveSessions } from "../../sql/sessions.ts";
import { countUsersByState } from "../../sql/user-listing.ts";

// The health report of `gatehouse health` and (later) GET /admin/health:
// one JSON shape for both, so dashboards and scripts read either.

const longRunningSeconds = 5;

export type HealthReport = Awaited<ReturnType<typeof readHealth>>;

export async function readHealth(pool: DatabasePool, { detailed }: { detailed: boolean }) {
  const started = performance.now();
  await ping(pool);
  const latencyMs = Math.round((performance.now() - started) * 100) / 100;
  const overview = await readDatabaseOverview(pool);
  const poolState = pool.state();
  const statementsInstalled = await hasPgStatStatements(pool);
  const report = {
    status: "ok" as const,
    checked_at: new Date().toISOString(),
    database: {
      reachable: true,
      latency_ms: latencyMs,
      server_version: overview.server_version,
      name: overview.database,
      size_bytes: overview.size_bytes,
      connections: overview.connections,
      max_connections: overview.max_connections,
      cache_hit_ratio: overview.cache_hit_ratio,
      deadlocks: overview.deadlocks,
    },
    pool: {
      acquired: poolState.acquiredConnections,
      idle: poolState.idleConnections,
      waiting: poolState.waitingClients,
      pending: poolState.pendingConnections,
    },
    tables: await readTableStats(pool),
    long_running_queries: {
      threshold_seconds: longRunningSeconds,
      queries: await readLongRunningQueries(pool, longRunningSeconds),
    },
    slow_statements: statementsInstalled
      ? { available: true, statements: await readSlowStatements(pool, 10) }
      : {
          available: false,
          note: "pg_stat_statements is not installed (CREATE EXTENSION pg_stat_statements, with shared_preload_libraries)",
          statements: [],
        },
  };
  if (!detailed) return { ...report, auth: null };
  const since = new Date(Date.now() - 86_400_000);
  const users = await countUsersByState(pool);
  const failures = await countAuthFailuresSince(pool, since);
  return {
    ...report,
    auth: {
      users,
      active_sessions: await countLiveSessions(pool),
      live_refresh_token_families: await countLiveRefreshFamilies(pool),
      last_24h: failures,
    },
  };
}
