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
