import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";

export const appliedMigrationRow = z.object({ name: z.string(), run_on: z.date() });
export type AppliedMigration = z.infer<typeof appliedMigrationRow>;

/** Migrations recorded by node-pg-migrate; empty when the table does not exist yet. */
export async function listAppliedMigrations(
  db: CommonQueryMethods,
): Promise<readonly AppliedMigration[]> {
  const exists = await db.oneFirst(
    sql.type(
      z.object({ exists: z.boolean() }),
    )`SELECT to_regclass('pgmigrations') IS NOT NULL AS exists`,
  );
  if (!exists) return [];
  return db.any(
    sql.type(
      appliedMigrationRow,
    )`SELECT name, run_on::timestamptz AS run_on FROM pgmigrations ORDER BY run_on, id`,
  );
}
