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

export async function insertWebhookEndpoint(
  db: CommonQueryMethods,
  endpoint: { url: string; events: readonly string[]; secret: string; createdBy: string | null },
): Promise<WebhookEndpoint> {
  return db.one(sql.type(webhookEndpointRow)`
    INSERT INTO webhook_endpoints (url, events, secret, created_by)
    VALUES (${endpoint.url}, ${sql.array([...endpoint.events], "text")}, ${endpoint.secret},
            ${endpoint.createdBy})
    RETURNING ${endpointColumns}`);
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
