import { timingSafeEqual } from "node:crypto";
import type { CommonQueryMethods } from "slonik";
import { z } from "zod";
import {
  deleteOAuthClient,
  findClientSecretHashes,
  findOAuthClient,
  insertOAuthClient,
  listOAuthClients,
  type OAuthClient,
  replaceClientSecret,
} from "../../sql/oauth-clients.ts";
import { type AuditedDeps, recordAudit } from "../audit.ts";
import { DomainError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { hashSecret, newSessionSecret } from "../sessions/sessions.ts";
import { printableText } from "../text-input.ts";
import type { Actor } from "../users/administration.ts";
import { type IdTokenAlgorithm, idTokenAlgorithms } from "./id-tokens.ts";
import { supportedScopes } from "./scopes.ts";

export type { OAuthClient };

// The relying parties: registered by an administrator (CLI or admin API),
// never by the clients themselves. A confidential client's secret is shown
// once, at creation or rotation, and kept only as its SHA-256.

/** How long a rotated secret keeps working beside its successor. */
export const secretRotationGraceMs = 24 * 60 * 60 * 1000;

/**
 * A redirect URI as registered: absolute http(s), no fragment (RFC 6749
 * §3.1.2), no credentials. Compared with the request's by exact string
 * equality, never by prefix or pattern.
 */
const redirectUri = z
  .string()
  .max(2000)
  .refine((value) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return false;
    }
    return (
      (url.protocol === "https:" || url.protocol === "http:") &&
      url.hash === "" &&
      !value.includes("#") &&
      url.username === "" &&
      url.password === ""
    );
  }, "Use an absolute http or https URL without a fragment or credentials.");

export const clientBody = z.strictObject({
  name: printableText(100).trim().min(1),
  redirect_uris: z.array(redirectUri).min(1).max(20),
  post_logout_redirect_uris: z.array(redirectUri).max(20).default([]),
  /** A public client (a single-page or native app) has no secret and must use PKCE. */
  public: z.boolean().default(false),
  /** Trusted by the operator: its users are not asked for consent. */
  first_party: z.boolean().default(false),
  allowed_scopes: z
    .array(z.enum(supportedScopes))
    .min(1)
    .max(supportedScopes.length)
    .refine((scopes) => scopes.includes("openid"), "openid must be allowed.")
    .default([...supportedScopes]),
  /**
   * RFC 7591: how its ID tokens are signed; one of the algorithms this
   * deployment offers (discovery's id_token_signing_alg_values_supported).
   * Default: RS256 (or, without an RSA key, the access-token key's).
   */
  id_token_signed_response_alg: z.enum(idTokenAlgorithms).optional(),
  /** OpenID Connect Back-Channel Logout 1.0: where to POST a logout token when its user signs out. */
  backchannel_logout_uri: redirectUri.optional(),
});
export type ClientInput = z.input<typeof clientBody>;

/** A client as the admin API and `gatehouse clients --json` show it (never a secret or its hash). */
export function toClientView(client: OAuthClient) {
  return {
    client_id: client.id,
    name: client.name,
    redirect_uris: client.redirect_uris,
    post_logout_redirect_uris: client.post_logout_redirect_uris,
    public: !client.confidential,
    first_party: client.first_party,
    allowed_scopes: client.allowed_scopes,
    id_token_signed_response_alg: client.id_token_signed_response_alg,
    backchannel_logout_uri: client.backchannel_logout_uri,
    created_at: client.created_at.toISOString(),
  };
}
export type ClientView = ReturnType<typeof toClientView>;

export function listClients(db: CommonQueryMethods): Promise<readonly OAuthClient[]> {
  return listOAuthClients(db);
}

/** The client named by a client_id, or null (also for a malformed one). */
export function findClient(db: CommonQueryMethods, clientId: string): Promise<OAuthClient | null> {
  return z.uuid().safeParse(clientId).success
    ? findOAuthClient(db, clientId)
    : Promise.resolve(null);
}

/**
 * Registers a client; a confidential one's secret comes back, to be shown
 * this once. `algs`: the ID-token algorithms this deployment offers, the
 * default first (IdTokens.algs); one it does not offer is refused before
 * anything is written.
 */
export async function addClient(
  { pool, logger }: AuditedDeps,
  actor: Actor,
  input: z.output<typeof clientBody>,
  algs: readonly IdTokenAlgorithm[],
): Promise<{ client: OAuthClient; secret: string | null }> {
  const alg = input.id_token_signed_response_alg ?? algs[0] ?? "RS256";
  if (!algs.includes(alg)) {
    const detail = `This server signs ID tokens with ${algs.join(", ")} only.`;
    throw new DomainError("validation_failed", {
      detail,
      errors: [{ pointer: "#/id_token_signed_response_alg", detail }],
    });
  }
  const secret = input.public ? null : newSessionSecret();
  const client = await pool.transaction(async (tx) => {
    const added = await insertOAuthClient(tx, {
      name: input.name,
      redirectUris: input.redirect_uris,
      postLogoutRedirectUris: input.post_logout_redirect_uris,
      firstParty: input.first_party,
      allowedScopes: input.allowed_scopes,
      idTokenSignedResponseAlg: alg,
      backchannelLogoutUri: input.backchannel_logout_uri ?? null,
      secretHash: secret ? hashSecret(secret) : null,
    });
    await auditClientChange(tx, logger, "admin.client_added", actor, added);
    return added;
  });
  return { client, secret };
}

/** Removes a client; its codes, consents, sessions and tokens end with it. */
export async function removeClient(
  { pool, logger }: AuditedDeps,
  actor: Actor,
  clientId: string,
): Promise<OAuthClient> {
  if (!z.uuid().safeParse(clientId).success) throw new DomainError("client_not_found");
  return pool.transaction(async (tx) => {
    const removed = await deleteOAuthClient(tx, clientId);
    if (!removed) throw new DomainError("client_not_found");
    await auditClientChange(tx, logger, "admin.client_removed", actor, removed);
    return removed;
  });
}

/**
 * A confidential client's new secret, shown once; the previous one keeps
 * working for secretRotationGraceMs so the client can be redeployed.
 */
export async function rotateClientSecret(
  { pool, logger }: AuditedDeps,
  actor: Actor,
  clientId: string,
): Promise<{ client: OAuthClient; secret: string }> {
  if (!z.uuid().safeParse(clientId).success) throw new DomainError("client_not_found");
  const secret = newSessionSecret();
  const client = await pool.transaction(async (tx) => {
    const rotated = await replaceClientSecret(
      tx,
      clientId,
      hashSecret(secret),
      new Date(Date.now() + secretRotationGraceMs),
    );
    if (!rotated) throw new DomainError("client_not_found");
    await auditClientChange(tx, logger, "admin.client_secret_rotated", actor, rotated);
    return rotated;
  });
  return { client, secret };
}

/** Whether `secret` is the client's secret (or its previous one, within the grace period). */
export async function clientSecretMatches(
  db: CommonQueryMethods,
  clientId: string,
  secret: string,
): Promise<boolean> {
  const hashes = await findClientSecretHashes(db, clientId);
  if (!hashes) return false;
  const presented = hashSecret(secret);
  // Both are compared, always, in constant time: no timing tells which matched.
  const matches = [hashes.secret_hash, hashes.previous_secret_hash].map(
    (hash) => hash !== null && timingSafeEqual(hash, presented),
  );
  return matches.some(Boolean);
}

function auditClientChange(
  tx: CommonQueryMethods,
  logger: Logger,
  eventType: string,
  actor: Actor,
  client: OAuthClient,
): Promise<void> {
  return recordAudit(tx, logger, {
    eventType,
    result: "success",
    ...actor,
    context: { client_id: client.id, name: client.name },
  });
}
