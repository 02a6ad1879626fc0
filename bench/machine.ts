import { cpus, platform, release, totalmem } from "node:os";
import type { BenchPostgres } from "./database.ts";
import type { Machine } from "./report.ts";

export async function describeMachine(postgres: BenchPostgres): Promise<Machine> {
  const [row] = await postgres.query<{ server_version: string }>("SHOW server_version");
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model.trim() ?? "unknown",
    memoryGb: totalmem() / 1024 ** 3,
    os: `${platform()} ${release()}`,
    bun: Bun.version,
    postgres: row?.server_version ?? "unknown",
    database: postgres.kind,
  };
}

/** What every report starts with: its kind, when, whether it was a smoke run, and where. */
export async function reportHeading<Kind extends string>(
  kind: Kind,
  quick: boolean,
  postgres: BenchPostgres,
) {
  return { kind, date: new Date().toISOString(), quick, machine: await describeMachine(postgres) };
}
