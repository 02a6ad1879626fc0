import { readdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { runner } from "node-pg-migrate";
import type { CommonQueryMethods } from "slonik";
import { listAppliedMigrations } from "../../sql/schema-migrations.ts";
import type { Logger } from "../logger.ts";
import { migrateDeliveryQueue } from "./delivery-queue.ts";
import { databaseConnection } from "./tls.ts";

export const migrationsDir = resolve(import.meta.dir, "../../migrations");
export const migrationsTable = "pgmigrations";

export type MigrationDirection = "up" | "down";

/**
 * Applies (up) or reverts (down) migrations. node-pg-migrate holds a
 * PostgreSQL advisory lock for the run; in "wait" mode a second replica
 * starting at the same moment blocks until the first is done, then finds
 * nothing left to do, so both come up.
 */
export async function runMigrations({
  databaseUrl,
  direction,
  count,
  logger,
}: {
  databaseUrl: string;
  direction: MigrationDirection;
  count?: number;
  logger: Logger;
}): Promise<string[]> {
  const applied = await runner({
    databaseUrl: databaseConnection(databaseUrl),
    dir: migrationsDir,
    migrationsTable,
    direction,
    count: count ?? (direction === "up" ? Number.POSITIVE_INFINITY : 1),
    advisoryLockMode: "wait",
    checkOrder: true,
    singleTransaction: true,
    log: () => {},
    logger: {
      debug: () => {},
      info: (message: string) => logger.debug({ migrations: message }, "migration runner"),
      warn: (message: string) => logger.warn({ migrations: message }, "migration runner"),
      error: (message: string) => logger.error({ migrations: message }, "migration runner"),
    },
  }).catch((error: unknown) => {
    throw explainPrivilegeFailure(error);
  });
  if (direction === "up") await migrateDeliveryQueue(databaseUrl, logger);
  return applied.map((m) => m.name);
}

/** A migration refused for want of rights, restated: the usual cause is the runtime role's URL. */
function explainPrivilegeFailure(error: unknown): unknown {
  const { code, message = "" } = error as { code?: string; message?: string };
  if (code !== "42501" && !/permission denied|must be owner/.test(message)) return error;
  return new Error(
    "migrations need the role that owns the schema and this one may not change it: set DATABASE_MIGRATION_URL to the owner's URL, or run `gatehouse migrate up` as the owner",
    { cause: error },
  );
}

/**
 * Applies pending migrations as the owner, at start-up (server and CLI).
 * When none are pending the runner is not started at all: its bookkeeping
 * needs owner rights, and a service running as the runtime role (which may
 * read pgmigrations) must still start on a current schema.
 */
export async function applyPendingMigrations({
  pool,
  ownerUrl,
  logger,
}: {
  pool: CommonQueryMethods;
  ownerUrl: string;
  logger: Logger;
}): Promise<string[]> {
  const applied = new Set((await listAppliedMigrations(pool)).map((m) => m.name));
  const onDisk = await migrationNamesOnDisk();
  if (onDisk.every((name) => applied.has(name))) {
    // The queue's own migrations may be behind ours (a newer graphile-worker).
    await migrateDeliveryQueue(ownerUrl, logger);
    return [];
  }
  return runMigrations({ databaseUrl: ownerUrl, direction: "up", logger });
}

/** Names of the migration files on disk, in the order they apply. */
export async function migrationNamesOnDisk(): Promise<string[]> {
  const files = await readdir(migrationsDir);
  return files
    .filter((f) => f.endsWith(".sql"))
    .map((f) => f.replace(/\.sql$/, ""))
    .sort();
}

/** Writes an empty migration `<timestamp>_<name>.sql` and returns its path. */
export async function createMigrationFile(name: string): Promise<string> {
  if (!/^[a-z0-9][a-z0-9_-]{0,80}$/.test(name)) {
    throw new Error("migration names are lower-case letters, digits, - and _");
  }
  const path = join(migrationsDir, `${Date.now()}_${name}.sql`);
  await writeFile(path, "-- Up Migration\n\n-- Down Migration\n", { flag: "wx" });
  return path;
}
