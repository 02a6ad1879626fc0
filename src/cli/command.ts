import type { ParseArgsConfig } from "node:util";
import { type Config, parseConfig } from "../config/index.ts";
import { applyPendingMigrations } from "../db/migrations.ts";
import { type OpenDatabase, openDatabase } from "../db/open-database.ts";
import { createLogger, type Logger } from "../logger.ts";

/** A failure the command explains itself: printed as one line, exit code 1. */
export class CliError extends Error {
  override name = "CliError";
}

export type CliInput = {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
  json: boolean;
};

export type CliCommand = {
  summary: string;
  help: string;
  options?: ParseArgsConfig["options"];
  run: (input: CliInput) => Promise<number>;
};

/**
 * The server's config and database for a command, logging warnings and worse
 * to stderr so stdout stays the command's own output. Commands that work on
 * the data (`migrate: true`) first bring the schema up to date as the server
 * does at start-up (unless MIGRATE_ON_START=false), so they work on a fresh
 * checkout before the server ever ran. `owner: true` connects as the schema
 * owner (DATABASE_MIGRATION_URL when set) for work that changes the schema.
 */
export async function withDatabase<T>(
  run: (context: { config: Config; db: OpenDatabase; logger: Logger }) => Promise<T>,
  { migrate = false, owner = false }: { migrate?: boolean; owner?: boolean } = {},
): Promise<T> {
  const config = parseConfig();
  const logger = cliLogger();
  const db = await openDatabase(
    {
      ...config,
      database: { ...config.database, DB_MAX_RETRIES: Math.min(config.database.DB_MAX_RETRIES, 1) },
    },
    logger,
    { as: owner ? "owner" : "service" },
  ).catch((error: Error) => {
    throw new CliError(`cannot reach the database: ${error.message}`);
  });
  try {
    if (migrate && config.database.MIGRATE_ON_START) {
      await applyPendingMigrations({ pool: db.pool, ownerUrl: db.ownerUrl, logger });
    }
    return await run({ config, db, logger });
  } finally {
    await db.close();
  }
}

/** Warnings and worse on stderr, so stdout stays the command's own output. */
export const cliLogger = (): Logger =>
  createLogger(process.env.LOG_LEVEL ?? "warn", process.stderr as never);

/** withDatabase connected as the schema owner: for migrations, restore and role grants. */
export function withOwnerDatabase<T>(
  run: (context: { config: Config; db: OpenDatabase; logger: Logger }) => Promise<T>,
  { migrate = false }: { migrate?: boolean } = {},
): Promise<T> {
  return withDatabase(run, { migrate, owner: true });
}

/** Prints a result: JSON for machines, else the human rendering. */
export function output(json: boolean, data: unknown, human: () => string): void {
  console.log(json ? JSON.stringify(data, null, 2) : human());
}
