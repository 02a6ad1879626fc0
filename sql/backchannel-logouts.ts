import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";

// Back-channel logout notices (src/oidc/backchannel-logout.ts) as jobs of
// the delivery queue (graphile-worker's add_job() is plain SQL), written in
// the transaction of the sign-out that calls for them.

/** The queue's task that POSTs one logout token. */
export const backchannelLogoutTask = "backchannel_logout";

/**
 * A job for every client with a back-channel logout URI and a relying-party
 * session of the user not revoked before this sign-out (unrevoked, or
 * revoked by it or within the minute). Expired ones count: the app's own
 * session usually outlives its Gatehouse tokens, and cleanup removes them
 * CLEANUP_GRACE_PERIOD after they expire. How many were queued.
 */
export async function enqueueBackchannelLogouts(
  db: CommonQueryMethods,
  userId: string,
): Promise<number> {
  return db.oneFirst(sql.type(z.object({ queued: z.number().int() }))`
    SELECT count(graphile_worker.add_job(
             ${backchannelLogoutTask},
             json_build_object('client_id', c.id, 'user_id', ${userId}::uuid),
             max_attempts := 3))::int AS queued
    FROM oauth_clients c
    WHERE c.backchannel_logout_uri IS NOT NULL
      AND EXISTS (
        SELECT 1 FROM sessions s
        WHERE s.client_id = c.id AND s.user_id = ${userId}::uuid
          AND (s.revoked_at IS NULL OR s.revoked_at >= now() - interval '1 minute'))`);
}
