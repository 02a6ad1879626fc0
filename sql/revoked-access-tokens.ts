import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";
import type { SweptTable } from "./dead-rows.ts";
import { sessionWithUserRow } from "./session-checks.ts";

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

const bearerSubjectWithPosition = bearerSubjectRow.extend({ n: z.number() });

export type BearerToken = { userId: string; sessionId: string; jti: string; issuedAt: Date };

/**
 * The check behind every bearer request, after the signature: the user is
 * active and has not had their tokens cut off since `issuedAt`, the session
 * the token came from is not revoked, and the jti is not deny-listed. One
 * statement for the checks of many requests at once (src/tokens/bearer.ts),
 * three primary-key lookups per token, no write; a named prepared
 * statement. Each subject found comes back with `n`, the position (from 1)
 * of its token in `tokens`; a token that fails any test is left out.
 * `iat` has whole seconds, so a token of the very second of a cut-off passes
 * the tokens_valid_after test (a fresh sign-in right after must work); every
 * path that cuts tokens off also revokes the sessions, caught exactly here.
 */
export async function findBearerSubjects(
  db: CommonQueryMethods,
  tokens: readonly BearerToken[],
): Promise<readonly (BearerSubject & { n: number })[]> {
  const column = (pick: (t: BearerToken) => string, type: string) =>
    sql.array(tokens.map(pick), type);
  const sessionIds = column((t) => t.sessionId, "uuid");
  const userIds = column((t) => t.userId, "uuid");
  const jtis = column((t) => t.jti, "text");
  const issuedAt = column((t) => t.issuedAt.toISOString(), "timestamptz");
  return db.any(sql.prepared("gatehouse_bearer_subjects", bearerSubjectWithPosition)`
    SELECT t.n::int AS n, u.id AS user_id, u.email, u.email_verified, u.full_name, u.role,
           u.status, u.is_whitelisted, s.amr
    FROM unnest(${sessionIds}, ${userIds}, ${jtis}, ${issuedAt})
         WITH ORDINALITY AS t(session_id, user_id, jti, issued_at, n)
    JOIN sessions s ON s.id = t.session_id
    JOIN users u ON u.id = s.user_id AND u.id = t.user_id
    WHERE s.revoked_at IS NULL
      AND u.status = 'active'
      AND (u.tokens_valid_after IS NULL OR u.tokens_valid_after < t.issued_at + interval '1 second')
      AND NOT EXISTS (SELECT 1 FROM revoked_access_tokens r WHERE r.jti = t.jti)`);
}

/** The check of one bearer token (see findBearerSubjects); null when it fails. */
export async function findBearerSubject(
  db: CommonQueryMethods,
  token: BearerToken,
): Promise<BearerSubject | null> {
  const [found] = await findBearerSubjects(db, [token]);
  if (!found) return null;
  const { n: _, ...subject } = found;
  return subject;
}
