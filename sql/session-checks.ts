import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";
import { userRow } from "./users.ts";

// The sessions table as every request reads it: the session check (cookie
// sign-in, forward-auth) and the "last seen" writes it leaves for later.

export const sessionWithUserRow = z.object({
  session_id: z.uuid(),
  last_seen_at: z.date(),
  expires_at: z.date(),
  /**
   * Seconds; with last_seen_at, lets a cached copy enforce the idle timeout.
   * Read as an int: parsing an interval's text costs more than the rest of the row.
   */
  idle_timeout: z.number(),
  user_id: z.uuid(),
  email: z.string().nullable(),
  email_verified: z.boolean(),
  full_name: z.string().nullable(),
  role: userRow.shape.role,
  status: userRow.shape.status,
  is_whitelisted: z.boolean(),
  /** How the session's sign-in was proved; two or more methods: a second factor. */
  amr: z.array(z.string()),
});
export type SessionWithUser = z.infer<typeof sessionWithUserRow>;

const sessionCheckRow = sessionWithUserRow.extend({
  /** Within its absolute lifetime and idle timeout, by the database's clock. */
  live: z.boolean(),
});
export type SessionCheckRow = z.infer<typeof sessionCheckRow>;

/**
 * The session check of every request (cookie sign-in, forward-auth), for
 * the checks of many requests at once (src/db/batched-lookup.ts): one
 * statement, an index lookup and a user's primary key per session, no
 * write; a named prepared statement (src/db/pool.ts). Each session found
 * comes back with `n`, the position (from 1) of its hash in `tokenHashes`;
 * unknown and revoked ones are left out. An unrevoked session past its
 * expiry or idle timeout comes back with `live` false, so a refusal can say
 * "expired" without a second read.
 */
export async function findUnrevokedSessionsWithUsers(
  db: CommonQueryMethods,
  tokenHashes: readonly Buffer[],
): Promise<readonly (SessionCheckRow & { n: number })[]> {
  return db.any(sql.prepared("gatehouse_session_check", sessionCheckWithPosition)`
    SELECT t.n::int AS n, s.id AS session_id, s.last_seen_at, s.expires_at,
           EXTRACT(EPOCH FROM s.idle_timeout)::int AS idle_timeout, u.id AS user_id, u.email,
           u.email_verified, u.full_name, u.role, u.status, u.is_whitelisted, s.amr,
           (s.expires_at > now() AND s.last_seen_at + s.idle_timeout > now()) AS live
    FROM unnest(${sql.array(tokenHashes, "bytea")}) WITH ORDINALITY AS t(token_hash, n)
    JOIN sessions s ON s.token_hash = t.token_hash
    JOIN users u ON u.id = s.user_id
    WHERE s.revoked_at IS NULL`);
}

const sessionCheckWithPosition = sessionCheckRow.extend({ n: z.number() });

/**
 * Moves last_seen_at of many sessions forward in one statement (the batch a
 * replica collected over a second, see src/sessions/session-touches.ts);
 * never backwards, so replicas flushing out of order cannot undo each other.
 */
export async function touchSessions(
  db: CommonQueryMethods,
  touches: ReadonlyMap<string, Date>,
): Promise<void> {
  if (touches.size === 0) return;
  const ids = [...touches.keys()];
  const times = [...touches.values()].map((t) => t.toISOString());
  await db.query(sql.unsafe`
    UPDATE sessions s SET last_seen_at = v.seen
    FROM unnest(${sql.array(ids, "uuid")}, ${sql.array(times, "timestamptz")}) AS v(id, seen)
    WHERE s.id = v.id AND s.last_seen_at < v.seen`);
}
