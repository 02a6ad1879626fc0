import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { dropAuditPartition } from "../sql/audit-events.ts";
import type { Logger } from "../src/logger.ts";
import { runCleanup } from "../src/ops/cleanup.ts";
import { type BenchPostgres, createGatehouseDatabase } from "./database.ts";
import { type Gatehouse, startGatehouse } from "./gatehouse.ts";
import { runLoad } from "./load.ts";
import { reportHeading } from "./machine.ts";
import type { BenchOptions } from "./options.ts";
import { p99Growth, type ScaleReport, type ScaleStep } from "./report.ts";
import { forwardedHeaders } from "./scenarios.ts";

// `bench scale`: grow sessions and audit events by powers of ten and, at each
// size, measure the session check under load, the batched cleanup of expired
// sessions (src/ops/cleanup.ts, as the server runs it) and audit retention by
// dropping a month partition next to deleting as many rows. The rows are
// made by bench/sql/*.sql with generate_series: bulk fills no service code
// needs, so they stay out of sql/.

/** Users owning the filled sessions (fill-sessions.sql spreads sessions over them). */
export const fillUsers = 10_000;
const retentionMonths = { deleted: "2001-01-01", dropped: "2001-02-01" };

/** The text of bench/sql/<name>.sql. */
export async function sqlFile(name: string): Promise<string> {
  return readFile(join(import.meta.dir, "sql", `${name}.sql`), "utf8");
}

export function scaleSizes(options: BenchOptions): number[] {
  if (options.quick) return [1_000, 10_000];
  return options.big ? [1e4, 1e5, 1e6, 1e7] : [1e4, 1e5, 1e6];
}

/** Cookie secret of filled session n (see fill-sessions.sql). */
export function filledSessionSecret(n: number): string {
  return String(n).padStart(43, "x");
}

/** A random live filled session (every tenth one is expired). */
function randomLiveSession(count: number): number {
  for (;;) {
    const n = 1 + Math.floor(Math.random() * count);
    if (n % 10 !== 0) return n;
  }
}

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await run();
  return { value, ms: performance.now() - started };
}

/** The forward-auth route when this server has it, else GET /me (the same session check). */
async function sessionCheckRoute(gatehouse: Gatehouse): Promise<string> {
  const cookie = `${gatehouse.cookieName}=${filledSessionSecret(1)}`;
  const verify = await fetch(`${gatehouse.baseUrl}/auth/verify`, {
    headers: { ...forwardedHeaders, cookie },
  });
  await verify.body?.cancel();
  return verify.status === 404 ? "/me" : "/auth/verify";
}

export async function runScale(
  options: BenchOptions,
  postgres: BenchPostgres,
  logger: Logger,
  log: (line: string) => void,
): Promise<ScaleReport> {
  const settings = {
    durationSeconds: options.durationSeconds,
    warmupSeconds: options.warmupSeconds,
    connections: options.connections,
  };
  const databaseUrl = await createGatehouseDatabase(postgres, "gatehouse_bench_scale", logger);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const gatehouse = await startGatehouse(databaseUrl, logger);
  const backupDir = await mkdtemp(join(tmpdir(), "gatehouse-bench-backups-"));
  const steps: ScaleStep[] = [];
  try {
    await client.query(await sqlFile("fill-users"), [fillUsers]);
    const route = await sessionCheckRoute(gatehouse);
    const monthStart = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), 1));
    let sessions = 0;
    let bulkEvents = 0;
    for (const size of scaleSizes(options)) {
      const rowsPerMonth = Math.max(1, Math.round(size / 10));
      const bulkTarget = size - 2 * rowsPerMonth;
      log(`filling to ${size.toLocaleString("en-US")} sessions and audit events ...`);
      const fill = await timed(async () => {
        await client.query(await sqlFile("fill-sessions"), [sessions, size]);
        await client.query(await sqlFile("fill-audit-events"), [
          bulkTarget - bulkEvents,
          monthStart.toISOString(),
          new Date().toISOString(),
        ]);
        for (const month of [retentionMonths.deleted, retentionMonths.dropped]) {
          const [partition] = (
            await client.query<{ ddl: string }>(await sqlFile("audit-month-partition"), [month])
          ).rows;
          if (partition) await client.query(partition.ddl);
          const end = new Date(`${month}T00:00:00Z`);
          end.setUTCMonth(end.getUTCMonth() + 1);
          await client.query(await sqlFile("fill-audit-events"), [
            rowsPerMonth,
            `${month}T00:00:00Z`,
            end.toISOString(),
          ]);
        }
        // What autovacuum would have done by the time a real table got this
        // big; and a checkpoint, so the fill's dirty pages are not written
        // out in the middle of the load (that needs a superuser; without
        // one the load may share the disk with that write-out).
        await client.query("VACUUM ANALYZE sessions, users, audit_events");
        await client.query("CHECKPOINT").catch(() => {});
      });
      sessions = size;
      bulkEvents = bulkTarget;
      const [{ events } = { events: 0 }] = (
        await client.query<{ events: number }>("SELECT count(*)::int AS events FROM audit_events")
      ).rows;

      const load = await runLoad({
        ...settings,
        baseUrl: gatehouse.baseUrl,
        pid: gatehouse.pid,
        expectStatus: 200,
        request: { path: route },
        perRequest: {
          next: () => ({
            path: route,
            headers: {
              ...(route === "/auth/verify" ? forwardedHeaders : {}),
              cookie: `${gatehouse.cookieName}=${filledSessionSecret(randomLiveSession(size))}`,
            },
          }),
        },
      });
      log(
        `${size}: ${route} ${Math.round(load.requestsPerSecond)} req/s, p50 ${load.p50Ms.toFixed(2)} ms, p99 ${load.p99Ms.toFixed(2)} ms`,
      );

      // Cleanup as the server runs it: each batch is one short DELETE, so the
      // longest batch bounds how long any row lock is held. A batch's time is
      // measured from the previous progress report (an upper bound: the first
      // one also covers the empty batches of the tables cleaned before it).
      const sessionBatchesMs: number[] = [];
      let lastReport = performance.now();
      const cleanup = await timed(() =>
        runCleanup({
          pool: gatehouse.pool,
          graceMs: 7 * 86_400_000,
          auditRetentionDays: 36_500,
          backupDir,
          backupRetentionMs: 30 * 86_400_000,
          onProgress: (message) => {
            const now = performance.now();
            if (message.startsWith("sessions:")) sessionBatchesMs.push(now - lastReport);
            lastReport = now;
          },
        }),
      );
      const removed = cleanup.value.ran ? cleanup.value.removed.sessions : 0;

      const deleteRows = await timed(async () =>
        client.query(await sqlFile("delete-audit-month"), [retentionMonths.deleted]),
      );
      const [dropped] = (
        await client.query<{ name: string }>(await sqlFile("audit-month-partition"), [
          retentionMonths.dropped,
        ])
      ).rows;
      const drop = await timed(() => dropAuditPartition(gatehouse.pool, dropped?.name ?? ""));
      const [emptied] = (
        await client.query<{ name: string }>(await sqlFile("audit-month-partition"), [
          retentionMonths.deleted,
        ])
      ).rows;
      await dropAuditPartition(gatehouse.pool, emptied?.name ?? "");

      const step: ScaleStep = {
        sessions: size,
        auditEvents: events,
        fillSeconds: fill.ms / 1000,
        route,
        load,
        cleanup: {
          removed,
          seconds: cleanup.ms / 1000,
          batches: sessionBatchesMs.length,
          longestBatchMs: Math.max(0, ...sessionBatchesMs),
        },
        retention: {
          rowsPerMonth: deleteRows.value.rowCount ?? 0,
          dropPartitionMs: drop.ms,
          deleteRowsMs: deleteRows.ms,
        },
      };
      steps.push(step);
      log(
        `${size}: cleanup removed ${removed} sessions in ${(cleanup.ms / 1000).toFixed(2)} s; audit month of ${step.retention.rowsPerMonth} rows: DROP ${drop.ms.toFixed(1)} ms, DELETE ${deleteRows.ms.toFixed(1)} ms`,
      );
    }
  } finally {
    await client.end();
    await gatehouse.stop();
  }
  return {
    ...(await reportHeading("scale", options.quick, postgres)),
    settings,
    steps,
    p99Growth: p99Growth(steps),
  };
}
