import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";
import type { SweptTable } from "./dead-rows.ts";
import { sessionWithUserRow } from "./sessions.ts";

export const revokedAccessTokenRow = z.object({
  jti: z.string(),
  user_id: z.uuid().nullable(),
  revoked_at: z.date(),
  expires_at: z.date(),
});
export type RevokedAccessToken = z.infer<typeof revokedAccessTokenRow>;

/** Deny-lists a token id until the token would have expired anyway; idempotent. */
export async function denyAccessToken(
  db: CommonQueryMethods,
  token: { jti: string; userId: string | null; expiresAt: Date },
): Promise<void> {
  await db.query(sql.unsafe`
    INSERT INTO revoked_access_tokens (jti, user_id, expires_at)
    VALUES (${token.jti}, ${token.userId}, ${sql.timestamp(token.expiresAt)})
    ON CONFLICT (jti) DO NOTHING`);
}

/** For cleanup: deny-list rows whose token has expired anyway. */
export const expiredDeniedTokens: SweptTable = {
  table: "revoked_access_tokens",
  key: "jti",
  dead: () => sql.fragment`expires_at < now()`,
};

export const bearerSubjectRow = sessionWithUserRow.pick({
  user_id: true,
  email: true,
  email_verified: true,
  full_name: true,
  role: true,
  status: true,
  is_whitelisted: true,
  amr: true,
});
export type BearerSubject = z.infer<typeof bearerSubjectRow>;

/**
 * The check behind every bearer request, after the signature: the user is
 * active and has not had their tokens cut off since `issuedAt`, the session
 * the token came from is not revoked, and the jti is not deny-listed. One
 * statement, three primary-key lookups, no write; null when any fails.
 * `iat` has whole seconds, so a token of the very second of a cut-off passes
 * the tokens_valid_after test (a fresh sign-in right after must work); every
 * path that cuts tokens off also revokes the sessions, caught exactly here.
 */
export async function findBearerSubject(
  db: CommonQueryMethods,
  token: { userId: string; sessionId: string; jti: string; issuedAt: Date },
): Promise<BearerSubject | null> {
  return db.maybeOne(sql.prepared("gatehouse_bearer_subject", bearerSubjectRow)`
    SELECT u.id AS user_id, u.email, u.email_verified, u.full_name, u.role, u.status,
           u.is_whitelisted, s.amr
    FROM sessions s JOIN users u ON u.id = s.user_id
    WHERE s.id = ${token.sessionId} AND u.id = ${token.userId}
      AND s.revoked_at IS NULL
      AND u.status = 'active'
      AND (u.tokens_valid_after IS NULL
           OR u.tokens_valid_after < ${sql.timestamp(token.issuedAt)} + interval '1 second')
      AND NOT EXISTS (SELECT 1 FROM revoked_access_tokens r WHERE r.jti = ${token.jti})`);
}
