import { type CommonQueryMethods, type FragmentSqlToken, sql } from "slonik";
import { z } from "zod";

// The cleanup job's two statements over a table whose rows die (expire, get
// used or revoked): count the dead ones, or delete a batch of them. Each
// table module names its table, its key and what "dead" means there.

/** A table swept by cleanup, the column a batch picks its rows by, and when a row is dead. */
export type SweptTable = {
  table: string;
  key: string;
  /** Dead for good, with `cutoff` as the end of the grace period. */
  dead: (cutoff: Date) => FragmentSqlToken;
};

/**
 * Deletes at most `limit` rows matching `dead`; returns how many. Rows
 * another transaction holds are skipped (a later batch or run takes them).
 */
export async function deleteDeadRows(
  db: CommonQueryMethods,
  { table, key, dead }: SweptTable,
  cutoff: Date,
  limit: number,
): Promise<number> {
  const result = await db.query(sql.unsafe`
    DELETE FROM ${sql.identifier([table])} WHERE ${sql.identifier([key])} IN (
      SELECT ${sql.identifier([key])} FROM ${sql.identifier([table])} WHERE ${dead(cutoff)}
      LIMIT ${limit} FOR UPDATE SKIP LOCKED)`);
  return result.rowCount;
}

export async function countDeadRows(
  db: CommonQueryMethods,
  { table, dead }: SweptTable,
  cutoff: Date,
): Promise<number> {
  return db.oneFirst(sql.type(z.object({ count: z.number().int() }))`
    SELECT count(*)::int AS count FROM ${sql.identifier([table])} WHERE ${dead(cutoff)}`);
}
