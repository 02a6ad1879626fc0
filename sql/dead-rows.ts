import { type CommonQueryMethods, type FragmentSqlToken, sql } from "slonik";
import { z } from "zod";

// The cleanup job's two statements over a table whose rows die (expire, get
// used or revoked): count the dead ones, or delete a batch of them. Each
// table module names its table, its key and what "dead" means there.

/** A table swept by cleanup and the column a batch picks its rows by. */
export type SweptTable = { table: string; key: string };

/**
 * Deletes at most `limit` rows matching `dead`; returns how many. Rows
 * another transaction holds are skipped (a later batch or run takes them).
 */
export async function deleteDeadRows(
  db: CommonQueryMethods,
  { table, key }: SweptTable,
  dead: FragmentSqlToken,
  limit: number,
): Promise<number> {
  const result = await db.query(sql.unsafe`
    DELETE FROM ${sql.identifier([table])} WHERE ${sql.identifier([key])} IN (
      SELECT ${sql.identifier([key])} FROM ${sql.identifier([table])} WHERE ${dead}
      LIMIT ${limit} FOR UPDATE SKIP LOCKED)`);
  return result.rowCount;
}

export async function countDeadRows(
  db: CommonQueryMethods,
  { table }: SweptTable,
  dead: FragmentSqlToken,
): Promise<number> {
  return db.oneFirst(sql.type(z.object({ count: z.number().int() }))`
    SELECT count(*)::int AS count FROM ${sql.identifier([table])} WHERE ${dead}`);
}
