import type pg from "pg";
import type { Logger } from "../src/logger.ts";
import type { BenchPostgres } from "./database.ts";
import type { LoadOptions, LoadRequest } from "./load.ts";
import type { BenchOptions } from "./options.ts";
import type { ServerProcess } from "./processes.ts";
import type { ScenarioResult } from "./report.ts";

// The many-users rows' shared pieces: each row runs on a server process of
// its own and counts the database reads it caused.

export type Row = Omit<ScenarioResult, "outcome" | "measurement">;
export type Load = Pick<LoadOptions, "request" | "perRequest" | "expectStatus">;
type Target = { baseUrl: string; pid: number };

export type ManySessionsContext = {
  options: BenchOptions;
  postgres: BenchPostgres;
  logger: Logger;
  log: (line: string) => void;
  /** Runs the load and records the row. */
  measure: (
    row: Row,
    target: Target,
    load: Load,
  ) => Promise<{ result: ScenarioResult; warmupRequests: number }>;
  /** Records a row that could not be measured. */
  record: (row: ScenarioResult) => void;
  /** Whether BENCH_ONLY asks for this row (all rows when it names none of them). */
  wanted: (id: string) => boolean;
};

export const randomItem = <T>(items: readonly T[]) =>
  items[Math.floor(Math.random() * items.length)] as T;

/** Index scans of `table` so far, as PostgreSQL's statistics have them. */
async function indexScans(client: pg.Client, table: string): Promise<number> {
  const { rows } = await client.query<{ n: number }>(
    "SELECT coalesce(sum(idx_scan), 0)::float8 AS n FROM pg_stat_user_tables WHERE relname = $1",
    [table],
  );
  return rows[0]?.n ?? 0;
}

/**
 * Transactions of the whole database so far: each statement a check runs
 * outside a transaction is one, so with the index scans they tell how many
 * checks shared a statement.
 */
async function transactions(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ n: number }>(
    `SELECT (xact_commit + xact_rollback)::float8 AS n FROM pg_stat_database
     WHERE datname = current_database()`,
  );
  return rows[0]?.n ?? 0;
}

/**
 * One row on a server process of its own, with the index scans of `table`
 * and the statements per request over the whole load, warm-up included. A PostgreSQL backend
 * publishes its counters at most once a second while busy (and ten seconds
 * after going idle), but always when it exits: so the count is taken before
 * the server starts and after it, and with it its connections, stopped.
 */
export async function measureCounted(
  context: ManySessionsContext,
  row: Row,
  start: () => Promise<ServerProcess>,
  prepare: (server: ServerProcess) => Promise<Load>,
  count: { client: pg.Client; table: string },
) {
  if (!context.wanted(row.id)) return;
  const before = await indexScans(count.client, count.table);
  const transactionsBefore = await transactions(count.client);
  let server: ServerProcess | null = null;
  let measured: Awaited<ReturnType<ManySessionsContext["measure"]>> | null = null;
  try {
    server = await start();
    const load = await prepare(server);
    const problem = await answers(server.baseUrl, load.request, load.expectStatus);
    if (problem) throw new Error(problem);
    measured = await context.measure(row, server, load);
  } catch (error) {
    const note = error instanceof Error ? error.message.split("\n")[0] : String(error);
    context.record({ ...row, outcome: "failed", note });
  } finally {
    await server?.stop();
  }
  if (!measured?.result.measurement) return;
  // The backends exit just after the server closed their connections.
  await Bun.sleep(500);
  const requests = measured.result.measurement.requests + measured.warmupRequests;
  const measurement = measured.result.measurement;
  measurement.sessionReadsPerRequest =
    requests > 0 ? ((await indexScans(count.client, count.table)) - before) / requests : null;
  // Less the two statements of this count itself.
  measurement.statementsPerRequest =
    requests > 0 ? ((await transactions(count.client)) - transactionsBefore - 2) / requests : null;
}

export async function answers(
  baseUrl: string,
  request: LoadRequest,
  status: number,
): Promise<string> {
  const response = await fetch(`${baseUrl}${request.path}`, { headers: request.headers });
  const body = await response.text();
  return response.status === status
    ? ""
    : `probe answered ${response.status}: ${body.slice(0, 200)}`;
}
