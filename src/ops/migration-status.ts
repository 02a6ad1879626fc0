import type { CommonQueryMethods } from "slonik";
import { type AppliedMigration, listAppliedMigrations } from "../../sql/schema-migrations.ts";

/**
 * The migrations the database has applied, and those of `expected` (the
 * files this code ships) it has not: /readyz and `gatehouse migrate status`.
 */
export async function migrationStatus(
  db: CommonQueryMethods,
  expected: readonly string[],
): Promise<{ applied: readonly AppliedMigration[]; pending: string[] }> {
  const applied = await listAppliedMigrations(db);
  const appliedNames = new Set(applied.map((m) => m.name));
  return { applied, pending: expected.filter((name) => !appliedNames.has(name)) };
}
