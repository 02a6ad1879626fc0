import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { startEmbeddedPostgres } from "../src/db/embedded-postgres.ts";
import { runMigrations } from "../src/db/migrations.ts";
import type { Logger } from "../src/logger.ts";

// One PostgreSQL server per bench run: BENCH_DATABASE_URL (a user that may
// create databases), or a throw-away embedded one. Each server under test
// gets its own database on it, dropped at the end.

export type BenchPostgres = {
  adminUrl: string;
  kind: "embedded" | "BENCH_DATABASE_URL";
  createDatabase: (name: string) => Promise<string>;
  query: <R extends pg.QueryResultRow>(text: string, values?: unknown[]) => Promise<R[]>;
  stop: () => Promise<void>;
};

export function urlOfDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

export async function startBenchPostgres(logger: Logger): Promise<BenchPostgres> {
  const external = process.env.BENCH_DATABASE_URL;
  let adminUrl: string;
  let stopServer = async () => {};
  if (external) {
    adminUrl = external;
  } else {
    const dataDir = await mkdtemp(join(tmpdir(), "gatehouse-bench-"));
    // Durability off (fsync, synchronous_commit): the data is thrown away, and
    // the write-heavy scenarios would otherwise measure this machine's disk.
    const embedded = await startEmbeddedPostgres({ dataDir, logger, ephemeral: true });
    adminUrl = embedded.url;
    stopServer = async () => {
      await embedded.stop();
      await rm(dataDir, { recursive: true, force: true });
    };
  }
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const created: string[] = [];
  return {
    adminUrl,
    kind: external ? "BENCH_DATABASE_URL" : "embedded",
    createDatabase: async (name) => {
      const database = `${name}_${process.pid}`;
      await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(database)} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(database)}`);
      created.push(database);
      return urlOfDatabase(adminUrl, database);
    },
    query: async (text, values) => (await admin.query(text, values)).rows,
    stop: async () => {
      for (const database of created) {
        await admin.query(
          `DROP DATABASE IF EXISTS ${admin.escapeIdentifier(database)} WITH (FORCE)`,
        );
      }
      await admin.end();
      await stopServer();
    },
  };
}

/** A database with Gatehouse's schema, migrated by the service's own runner. */
export async function createGatehouseDatabase(
  postgres: BenchPostgres,
  name: string,
  logger: Logger,
): Promise<string> {
  const url = await postgres.createDatabase(name);
  await runMigrations({ databaseUrl: url, direction: "up", logger });
  return url;
}
