import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";

// What a user allowed a client that is not first-party: its scopes.

export const consentScopesRow = z.object({ scopes: z.array(z.string()) });

export async function findConsentedScopes(
  db: CommonQueryMethods,
  userId: string,
  clientId: string,
): Promise<readonly string[] | null> {
  return db.maybeOneFirst(sql.type(consentScopesRow)`
    SELECT scopes FROM oauth_consents WHERE user_id = ${userId} AND client_id = ${clientId}`);
}

/** Records a consent; the scopes already granted stay granted. */
export async function grantConsent(
  db: CommonQueryMethods,
  userId: string,
  clientId: string,
  scopes: readonly string[],
): Promise<void> {
  await db.query(sql.unsafe`
    INSERT INTO oauth_consents (user_id, client_id, scopes)
    VALUES (${userId}, ${clientId}, ${sql.array(scopes, "text")})
    ON CONFLICT (user_id, client_id) DO UPDATE
    SET scopes = ARRAY(SELECT DISTINCT unnest(oauth_consents.scopes || excluded.scopes) ORDER BY 1),
        granted_at = now()`);
}

/** Withdraws a user's consent to a client; false when there was none. */
export async function deleteConsent(
  db: CommonQueryMethods,
  userId: string,
  clientId: string,
): Promise<boolean> {
  const result = await db.query(sql.unsafe`
    DELETE FROM oauth_consents WHERE user_id = ${userId} AND client_id = ${clientId}`);
  return result.rowCount === 1;
}

export const appWithAccessRow = z.object({
  client_id: z.uuid(),
  name: z.string(),
  first_party: z.boolean(),
  /** What the user allowed (null: never asked, a first-party client). */
  consented_scopes: z.array(z.string()).nullable(),
  consented_at: z.date().nullable(),
  /** What the client's live tokens carry (their refresh tokens', their codes'). */
  token_scopes: z.array(z.string()),
  /** The client's live sessions (its tokens) for the user. */
  live_sessions: z.number().int(),
  /** When the client's earliest live session began (the sign-in it carries). */
  signed_in_at: z.date().nullable(),
  last_used_at: z.date().nullable(),
});
export type AppWithAccess = z.infer<typeof appWithAccessRow>;

/**
 * The relying parties that can reach a user's data: every client the user
 * consented to, and every client holding live tokens of the user (the only
 * trace a first-party client leaves), by name.
 */
export async function listAppsWithAccessOfUser(
  db: CommonQueryMethods,
  userId: string,
): Promise<readonly AppWithAccess[]> {
  return db.any(sql.type(appWithAccessRow)`
    SELECT c.id AS client_id, c.name, c.first_party,
           k.scopes AS consented_scopes, k.granted_at AS consented_at,
           coalesce(t.token_scopes, '{}') AS token_scopes,
           coalesce(s.live_sessions, 0) AS live_sessions, s.signed_in_at, s.last_used_at
    FROM oauth_clients c
    LEFT JOIN oauth_consents k ON k.client_id = c.id AND k.user_id = ${userId}
    LEFT JOIN LATERAL (
      SELECT count(*)::int AS live_sessions, min(created_at) AS signed_in_at,
             max(last_seen_at) AS last_used_at
      FROM sessions
      WHERE client_id = c.id AND user_id = ${userId} AND revoked_at IS NULL
        AND expires_at > now() AND last_seen_at + idle_timeout > now()
    ) s ON true
    LEFT JOIN LATERAL (
      SELECT array_agg(DISTINCT scope ORDER BY scope) AS token_scopes FROM (
        SELECT unnest(r.scopes) AS scope FROM refresh_tokens r
        WHERE r.client_id = c.id AND r.user_id = ${userId}
          AND r.used_at IS NULL AND r.revoked_at IS NULL AND r.expires_at > now()
        UNION
        -- A grant without offline_access has no refresh token: its code says what it carries.
        SELECT unnest(a.scopes) FROM oauth_authorization_codes a
        JOIN sessions x ON x.id = a.issued_session_id
        WHERE a.client_id = c.id AND x.user_id = ${userId}
          AND x.revoked_at IS NULL AND x.expires_at > now()
      ) granted
    ) t ON true
    WHERE k.user_id IS NOT NULL OR s.live_sessions > 0
    ORDER BY lower(c.name), c.id`);
}

/** How many users a client reaches: those who consented to it or whom it holds live tokens of. */
export async function countUsersOfClient(
  db: CommonQueryMethods,
  clientId: string,
): Promise<number> {
  return db.oneFirst(sql.type(z.object({ count: z.number().int() }))`
    SELECT count(*)::int AS count FROM (
      SELECT user_id FROM oauth_consents WHERE client_id = ${clientId}
      UNION
      SELECT user_id FROM sessions
      WHERE client_id = ${clientId} AND revoked_at IS NULL AND expires_at > now()
        AND last_seen_at + idle_timeout > now()
    ) reached`);
}
