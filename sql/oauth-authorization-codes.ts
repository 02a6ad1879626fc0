import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";
import type { SweptTable } from "./dead-rows.ts";

// Authorization codes of the OpenID provider: hashed, 60 seconds, single use.

/**
 * What a request was granted beyond its scopes, carried from the code to the
 * relying party's session (sessions.client_claims): the acr the sign-in met
 * and where to report it.
 */
export const claimsGrant = z.object({
  acr: z.string(),
  id_token: z.boolean(),
  userinfo: z.boolean(),
});
export type ClaimsGrant = z.infer<typeof claimsGrant>;

export const authorizationCodeRow = z.object({
  id: z.uuid(),
  client_id: z.uuid(),
  user_id: z.uuid(),
  redirect_uri: z.string(),
  scopes: z.array(z.string()),
  nonce: z.string().nullable(),
  code_challenge: z.string().nullable(),
  auth_time: z.date(),
  amr: z.array(z.string()),
  claims: claimsGrant.nullable(),
  expires_at: z.date(),
  used_at: z.date().nullable(),
  issued_session_id: z.uuid().nullable(),
});
export type AuthorizationCode = z.infer<typeof authorizationCodeRow>;

const codeColumns = sql.fragment`
  id, client_id, user_id, redirect_uri, scopes, nonce, code_challenge, auth_time, amr, claims,
  expires_at, used_at, issued_session_id`;

export type NewAuthorizationCode = {
  codeHash: Buffer;
  clientId: string;
  userId: string;
  redirectUri: string;
  scopes: readonly string[];
  nonce: string | null;
  codeChallenge: string | null;
  authTime: Date;
  amr: readonly string[];
  claims: ClaimsGrant | null;
  ttlSeconds: number;
};

export async function insertAuthorizationCode(
  db: CommonQueryMethods,
  code: NewAuthorizationCode,
): Promise<void> {
  await db.query(sql.unsafe`
    INSERT INTO oauth_authorization_codes (code_hash, client_id, user_id, redirect_uri, scopes,
                                           nonce, code_challenge, auth_time, amr, claims,
                                           expires_at)
    VALUES (${sql.binary(code.codeHash)}, ${code.clientId}, ${code.userId}, ${code.redirectUri},
            ${sql.array(code.scopes, "text")}, ${code.nonce}, ${code.codeChallenge},
            ${sql.timestamp(code.authTime)}, ${sql.array(code.amr, "text")},
            ${code.claims ? sql.jsonb(code.claims) : null},
            now() + make_interval(secs => ${code.ttlSeconds}))`);
}

/**
 * Marks a code used if, and only if, it is unused, unexpired and the
 * client's: of any number of concurrent redemptions exactly one gets the row.
 */
export async function consumeAuthorizationCode(
  db: CommonQueryMethods,
  codeHash: Buffer,
  clientId: string,
): Promise<AuthorizationCode | null> {
  return db.maybeOne(sql.type(authorizationCodeRow)`
    UPDATE oauth_authorization_codes SET used_at = now()
    WHERE code_hash = ${sql.binary(codeHash)} AND client_id = ${clientId}
      AND used_at IS NULL AND expires_at > now()
    RETURNING ${codeColumns}`);
}

export async function findAuthorizationCodeByHash(
  db: CommonQueryMethods,
  codeHash: Buffer,
): Promise<AuthorizationCode | null> {
  return db.maybeOne(sql.type(authorizationCodeRow)`
    SELECT ${codeColumns} FROM oauth_authorization_codes WHERE code_hash = ${sql.binary(codeHash)}`);
}

/** Remembers the token session a redemption opened, for revoking it on a replay. */
export async function recordCodeIssuedSession(
  db: CommonQueryMethods,
  id: string,
  sessionId: string,
): Promise<void> {
  await db.query(sql.unsafe`
    UPDATE oauth_authorization_codes SET issued_session_id = ${sessionId} WHERE id = ${id}`);
}

/** For cleanup: codes expired before the cutoff (a replay of one is refused by its absence). */
export const deadAuthorizationCodes: SweptTable = {
  table: "oauth_authorization_codes",
  key: "id",
  dead: (cutoff) => sql.fragment`expires_at < ${sql.timestamp(cutoff)}`,
};
