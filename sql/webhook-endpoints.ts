import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";

export const webhookEndpointRow = z.object({
  id: z.uuid(),
  url: z.string(),
  events: z.array(z.string()),
  created_by: z.uuid().nullable(),
  created_at: z.date(),
});
export type WebhookEndpoint = z.infer<typeof webhookEndpointRow>;

const endpointColumns = sql.fragment`id, url, events, created_by, created_at`;

/** A new endpoint; its id is chosen first, as the sealed secret is bound to it. */
export async function insertWebhookEndpoint(
  db: CommonQueryMethods,
  endpoint: {
    id: string;
    url: string;
    events: readonly string[];
    sealedSecret: string;
    createdBy: string | null;
  },
): Promise<WebhookEndpoint> {
  return db.one(sql.type(webhookEndpointRow)`
    INSERT INTO webhook_endpoints (id, url, events, sealed_secret, created_by)
    VALUES (${endpoint.id}, ${endpoint.url}, ${sql.array([...endpoint.events], "text")},
            ${endpoint.sealedSecret}, ${endpoint.createdBy})
    RETURNING ${endpointColumns}`);
}

/**
 * An endpoint's secret as stored: sealed, or (a row from before secrets were
 * sealed, until it is) in plain text. Exactly one of the two is set.
 */
export const storedSecretRow = z.object({
  id: z.uuid(),
  secret: z.string().nullable(),
  sealed_secret: z.string().nullable(),
});
export type StoredSecret = z.infer<typeof storedSecretRow>;

/** Secrets not sealed as `<format>.<keyId>` (plain ones included), in id order after `afterId`. */
export async function listWebhookSecretsNotUnderKey(
  db: CommonQueryMethods,
  format: string,
  keyId: string,
  afterId: string | null,
  limit: number,
): Promise<readonly StoredSecret[]> {
  return db.any(sql.type(storedSecretRow)`
    SELECT id, secret, sealed_secret FROM webhook_endpoints
    WHERE (sealed_secret IS NULL OR NOT starts_with(sealed_secret, ${`${format}.${keyId}.`}))
      AND id > ${afterId ?? "00000000-0000-0000-0000-000000000000"}
    ORDER BY id LIMIT ${limit}`);
}

/** Secrets still in plain text, in id order after `afterId`. */
export async function listPlainWebhookSecrets(
  db: CommonQueryMethods,
  afterId: string | null,
  limit: number,
): Promise<readonly StoredSecret[]> {
  return db.any(sql.type(storedSecretRow)`
    SELECT id, secret, sealed_secret FROM webhook_endpoints
    WHERE secret IS NOT NULL AND id > ${afterId ?? "00000000-0000-0000-0000-000000000000"}
    ORDER BY id LIMIT ${limit}`);
}

/**
 * Stores a newly sealed secret (emptying the plain one) only if the row
 * still holds what it was made from: a concurrent sealing or rotation wins.
 */
export async function replaceWebhookSecret(
  db: CommonQueryMethods,
  before: StoredSecret,
  sealedSecret: string,
): Promise<boolean> {
  const result = await db.query(sql.unsafe`
    UPDATE webhook_endpoints SET sealed_secret = ${sealedSecret}, secret = NULL
    WHERE id = ${before.id}
      AND secret IS NOT DISTINCT FROM ${before.secret}
      AND sealed_secret IS NOT DISTINCT FROM ${before.sealed_secret}`);
  return result.rowCount === 1;
}

const secretKeyCountRow = z.object({ key_id: z.string(), tokens: z.number().int() });

/** Sealed secrets per key id (plain ones are not counted). */
export async function countWebhookSecretsByKey(
  db: CommonQueryMethods,
): Promise<readonly z.infer<typeof secretKeyCountRow>[]> {
  return db.any(sql.type(secretKeyCountRow)`
    SELECT split_part(sealed_secret, '.', 2) AS key_id, count(*)::int AS tokens
    FROM webhook_endpoints WHERE sealed_secret IS NOT NULL GROUP BY 1 ORDER BY 1`);
}

/** Endpoints whose secret is still in plain text. */
export async function countPlainWebhookSecrets(db: CommonQueryMethods): Promise<number> {
  return db.oneFirst(sql.type(z.object({ plain: z.number().int() }))`
    SELECT count(*)::int AS plain FROM webhook_endpoints WHERE secret IS NOT NULL`);
}

/** Oldest first. */
export async function listWebhookEndpoints(
  db: CommonQueryMethods,
): Promise<readonly WebhookEndpoint[]> {
  return db.any(sql.type(webhookEndpointRow)`
    SELECT ${endpointColumns} FROM webhook_endpoints ORDER BY created_at, id`);
}

export async function findWebhookEndpoint(
  db: CommonQueryMethods,
  id: string,
): Promise<WebhookEndpoint | null> {
  return db.maybeOne(sql.type(webhookEndpointRow)`
    SELECT ${endpointColumns} FROM webhook_endpoints WHERE id = ${id}`);
}

/** Deletes an endpoint (its deliveries go with it); what it was, or null when unknown. */
export async function removeWebhookEndpoint(
  db: CommonQueryMethods,
  id: string,
): Promise<WebhookEndpoint | null> {
  return db.maybeOne(sql.type(webhookEndpointRow)`
    DELETE FROM webhook_endpoints WHERE id = ${id} RETURNING ${endpointColumns}`);
}
