import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";

// Session-level advisory locks, named by text: how exactly one replica runs
// a background job. Take and release them on one held connection
// (pool.connect), never on a pooled query that might move between them.

export async function tryAdvisoryLock(db: CommonQueryMethods, name: string): Promise<boolean> {
  return db.oneFirst(sql.type(z.object({ locked: z.boolean() }))`
    SELECT pg_try_advisory_lock(hashtext(${name})) AS locked`);
}

export async function releaseAdvisoryLock(db: CommonQueryMethods, name: string): Promise<void> {
  await db.query(sql.unsafe`SELECT pg_advisory_unlock(hashtext(${name}))`);
}
