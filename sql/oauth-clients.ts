import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";

// Relying parties of the OpenID provider (src/oidc). Secrets are only ever
// their SHA-256; the hash columns are read by findClientSecretHashes alone.

export const oauthClientRow = z.object({
  id: z.uuid(),
  name: z.string(),
  redirect_uris: z.array(z.string()),
  post_logout_redirect_uris: z.array(z.string()),
  confidential: z.boolean(),
  first_party: z.boolean(),
  allowed_scopes: z.array(z.string()),
  id_token_signed_response_alg: z.string(),
  backchannel_logout_uri: z.string().nullable(),
  previous_secret_expires_at: z.date().nullable(),
  created_at: z.date(),
});
export type OAuthClient = z.infer<typeof oauthClientRow>;

const clientColumns = sql.fragment`
  id, name, redirect_uris, post_logout_redirect_uris, confidential, first_party, allowed_scopes,
  id_token_signed_response_alg, backchannel_logout_uri, previous_secret_expires_at, created_at`;

export type NewOAuthClient = {
  name: string;
  redirectUris: readonly string[];
  postLogoutRedirectUris: readonly string[];
  firstParty: boolean;
  allowedScopes: readonly string[];
  idTokenSignedResponseAlg: string;
  backchannelLogoutUri: string | null;
  /** null for a public client. */
  secretHash: Buffer | null;
};

export async function insertOAuthClient(
  db: CommonQueryMethods,
  client: NewOAuthClient,
): Promise<OAuthClient> {
  return db.one(sql.type(oauthClientRow)`
    INSERT INTO oauth_clients (name, redirect_uris, post_logout_redirect_uris, confidential,
                               first_party, allowed_scopes, id_token_signed_response_alg,
                               backchannel_logout_uri, secret_hash)
    VALUES (${client.name}, ${sql.array(client.redirectUris, "text")},
            ${sql.array(client.postLogoutRedirectUris, "text")}, ${client.secretHash !== null},
            ${client.firstParty}, ${sql.array(client.allowedScopes, "text")},
            ${client.idTokenSignedResponseAlg}, ${client.backchannelLogoutUri},
            ${client.secretHash ? sql.binary(client.secretHash) : null})
    RETURNING ${clientColumns}`);
}

export async function listOAuthClients(db: CommonQueryMethods): Promise<readonly OAuthClient[]> {
  return db.any(sql.type(oauthClientRow)`
    SELECT ${clientColumns} FROM oauth_clients ORDER BY created_at, id`);
}

export async function findOAuthClient(
  db: CommonQueryMethods,
  id: string,
): Promise<OAuthClient | null> {
  return db.maybeOne(sql.type(oauthClientRow)`
    SELECT ${clientColumns} FROM oauth_clients WHERE id = ${id}`);
}

/** Deletes a client (its codes, consents and refresh tokens go with it); the row, or null. */
export async function deleteOAuthClient(
  db: CommonQueryMethods,
  id: string,
): Promise<OAuthClient | null> {
  return db.maybeOne(sql.type(oauthClientRow)`
    DELETE FROM oauth_clients WHERE id = ${id} RETURNING ${clientColumns}`);
}

export const clientSecretHashesRow = z.object({
  secret_hash: z.instanceof(Buffer).nullable(),
  /** The rotated secret, only while its grace period lasts. */
  previous_secret_hash: z.instanceof(Buffer).nullable(),
});
export type ClientSecretHashes = z.infer<typeof clientSecretHashesRow>;

/** The hashes a presented secret may match: the current one, and the previous one in its grace period. */
export async function findClientSecretHashes(
  db: CommonQueryMethods,
  id: string,
): Promise<ClientSecretHashes | null> {
  return db.maybeOne(sql.type(clientSecretHashesRow)`
    SELECT secret_hash,
           CASE WHEN previous_secret_expires_at > now() THEN previous_secret_hash END
             AS previous_secret_hash
    FROM oauth_clients WHERE id = ${id}`);
}

/**
 * A confidential client's new secret; the current one stays valid until
 * `graceEndsAt`. Null when there is no such confidential client.
 */
export async function replaceClientSecret(
  db: CommonQueryMethods,
  id: string,
  secretHash: Buffer,
  graceEndsAt: Date,
): Promise<OAuthClient | null> {
  return db.maybeOne(sql.type(oauthClientRow)`
    UPDATE oauth_clients
    SET previous_secret_hash = secret_hash,
        previous_secret_expires_at = ${sql.timestamp(graceEndsAt)},
        secret_hash = ${sql.binary(secretHash)}
    WHERE id = ${id} AND confidential
    RETURNING ${clientColumns}`);
}
