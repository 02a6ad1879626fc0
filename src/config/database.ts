import { z } from "zod";
import { databaseSettingsProblem } from "../db/database-settings.ts";
import { ConfigError } from "./config-error.ts";
import type { RuntimeConfig } from "./runtime.ts";
import { boolean, integer, optionalText } from "./values.ts";

// Checked as a whole here so that `postgres://` or a bad port is one line at
// start-up, not a stack trace from the driver. A unix socket is `?host=/path`.
const postgresUrl = optionalText.refine((v) => {
  if (v === undefined) return true;
  if (!/^postgres(ql)?:\/\//.test(v)) return false;
  try {
    const url = new URL(v);
    return url.hostname !== "" || (url.searchParams.get("host") ?? "") !== "";
  } catch {
    return false;
  }
}, "expected a postgres:// URL with a host, like postgres://user:password@host:5432/database");

/** Where the data lives, how the pool behaves, and whether start-up migrates. */
export const databaseSchema = z.object({
  DATABASE_URL: postgresUrl,
  /** The schema owner, for migrations and the CLI's owner work; DATABASE_URL when unset. */
  DATABASE_MIGRATION_URL: postgresUrl,
  /**
   * A direct connection for the credential cache's LISTEN, when DATABASE_URL
   * goes through a pooler in transaction mode (PgBouncer), where LISTEN does
   * not work; DATABASE_URL when unset.
   */
  DATABASE_LISTEN_URL: postgresUrl,
  /** PEM file of the CA that signed the database server's certificate (implies verify-full). */
  DATABASE_CA_FILE: optionalText,
  DB_POOL_MIN: integer(2, { max: 1000 }),
  DB_POOL_MAX: integer(10, { min: 1, max: 1000 }),
  DB_CONNECTION_TIMEOUT_MS: integer(5000, { min: 1 }),
  DB_STATEMENT_TIMEOUT_MS: integer(30000, { min: 1 }),
  DB_MAX_RETRIES: integer(3, { max: 100 }),
  DB_RETRY_DELAY_MS: integer(1000),
  DB_SLOW_QUERY_MS: integer(200),
  /**
   * Named prepared statements for the per-request checks; false behind a
   * pooler that cannot keep them (PgBouncer before 1.21, or with
   * max_prepared_statements = 0).
   */
  DB_PREPARED_STATEMENTS: boolean(true),
  MIGRATE_ON_START: boolean(true),
});

export type DatabaseConfig = z.infer<typeof databaseSchema>;

/** The settings taken together; throws ConfigError naming the first one that cannot work. */
export function checkDatabase(database: DatabaseConfig, runtime: RuntimeConfig): void {
  if (database.DB_POOL_MIN > database.DB_POOL_MAX) {
    throw new ConfigError("DB_POOL_MIN: must not be larger than DB_POOL_MAX");
  }
  const problem = databaseSettingsProblem(database);
  if (problem) throw new ConfigError(problem);
  if (runtime.NODE_ENV === "production" && !database.DATABASE_URL) {
    // The embedded PostgreSQL is a development convenience; production data lives on a real server.
    throw new ConfigError("DATABASE_URL: required when NODE_ENV=production");
  }
}
