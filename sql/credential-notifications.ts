import { type CommonQueryMethods, sql } from "slonik";

// The channel every replica's credential cache listens on
// (src/sessions/credential-cache.ts). The triggers of
// migrations/1763909000000_notify-credential-changes.sql send s:, u: and j:
// payloads on it; the listeners' heartbeats send h: payloads.

export const credentialsChannel = "gatehouse_credentials";

/** The payload that empties every replica's whole cache, e.g. after a restore. */
export const flushAllCredentials = "*";

/**
 * Sends `payload` to every replica listening on the credentials channel,
 * when the surrounding transaction commits (at once outside one).
 */
export async function notifyCredentialListeners(
  db: CommonQueryMethods,
  payload: string,
): Promise<void> {
  await db.query(sql.unsafe`SELECT pg_notify(${credentialsChannel}, ${payload})`);
}
