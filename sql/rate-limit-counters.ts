import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";
import type { SweptTable } from "./dead-rows.ts";

export const rateLimitCounterRow = z.object({
  key: z.string(),
  hits: z.number().int(),
  window_ends_at: z.date(),
});
export type RateLimitCounter = z.infer<typeof rateLimitCounterRow>;

/**
 * Counts one hit against `key` in a fixed window, in one statement: a new or
 * expired window starts at 1, a live one increments. Concurrent hits from
 * every replica serialise on the row, so none is lost.
 */
export async function hitRateLimitCounter(
  db: CommonQueryMethods,
  key: string,
  windowMs: number,
): Promise<RateLimitCounter> {
  return db.one(sql.type(rateLimitCounterRow)`
    INSERT INTO rate_limit_counters AS c (key, hits, window_ends_at)
    VALUES (${key}, 1, now() + make_interval(secs => ${windowMs / 1000}))
    ON CONFLICT (key) DO UPDATE SET
      hits = CASE WHEN c.window_ends_at <= now() THEN 1 ELSE c.hits + 1 END,
      window_ends_at = CASE WHEN c.window_ends_at <= now() THEN excluded.window_ends_at
                            ELSE c.window_ends_at END
    RETURNING key, hits, window_ends_at`);
}

/** For cleanup: counters whose window has ended (they would restart at 1 anyway). */
export const endedRateLimitCounters: SweptTable = {
  table: "rate_limit_counters",
  key: "key",
  dead: () => sql.fragment`window_ends_at <= now()`,
};
