import type { CommonQueryMethods } from "slonik";
import { z } from "zod";
import {
  enqueueDeliveryTo,
  listDeliveriesOfEndpoint,
  type WebhookDelivery,
} from "../../sql/webhook-deliveries.ts";
import {
  findWebhookEndpoint,
  insertWebhookEndpoint,
  listWebhookEndpoints,
  removeWebhookEndpoint,
  type WebhookEndpoint,
} from "../../sql/webhook-endpoints.ts";
import { type AuditedDeps, recordAudit } from "../audit.ts";
import type { Config } from "../config/index.ts";
import { DomainError, fieldError } from "../errors.ts";
import type { TokenCipher } from "../keys/token-encryption.ts";
import type { Actor } from "../users/administration.ts";
import { sealWebhookSecret } from "./endpoint-secrets.ts";
import { testEventType, webhookEventTypes, webhookPayload } from "./events.ts";
import { newWebhookSecret } from "./signing.ts";
import { checkHost } from "./target-address.ts";

// Webhook endpoints as administrators manage them (the API and the CLI):
// adding one checks its URL and answers its secret, once; removing one
// drops its delivery log; each may be sent a test event.

export type EndpointDeps = AuditedDeps & {
  config: Pick<Config, "runtime" | "webhooks">;
  tokenCipher: () => Promise<TokenCipher>;
};

export const webhookEndpointBody = z.strictObject({
  url: z.string().trim().min(1).max(2048),
  events: z
    .array(z.enum(webhookEventTypes))
    .min(1)
    .refine((events) => new Set(events).size === events.length, "each event once"),
});
export type WebhookEndpointInput = z.infer<typeof webhookEndpointBody>;
export type { WebhookDelivery, WebhookEndpoint };

/** An endpoint as the API and `gatehouse webhooks --json` show it (never its secret). */
export function toEndpointView(endpoint: WebhookEndpoint) {
  return {
    id: endpoint.id,
    url: endpoint.url,
    events: endpoint.events,
    created_by: endpoint.created_by,
    created_at: endpoint.created_at.toISOString(),
  };
}

/** A delivery as the delivery log shows it. */
export function toDeliveryView(delivery: WebhookDelivery) {
  return {
    id: delivery.id,
    event_type: delivery.event_type,
    status: delivery.status,
    attempts: delivery.attempts,
    last_response_code: delivery.last_response_code,
    last_error: delivery.last_error,
    created_at: delivery.created_at.toISOString(),
    last_attempt_at: delivery.last_attempt_at?.toISOString() ?? null,
    next_attempt_at: delivery.next_attempt_at?.toISOString() ?? null,
  };
}

const urlProblem = (detail: string) => fieldError("validation_failed", "#/url", detail);

/**
 * The URL as it will be stored, or a refusal naming the field: http(s) only,
 * https in production, no credentials in it (they would sit in logs and
 * lists), and a host that resolves to no internal address unless
 * WEBHOOK_ALLOW_PRIVATE (src/webhooks/target-address.ts).
 */
export async function checkedEndpointUrl(
  text: string,
  config: Pick<Config, "runtime" | "webhooks">,
): Promise<string> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw urlProblem("Expected an absolute URL, such as https://hooks.example.com/gatehouse.");
  }
  const allowPrivate = config.webhooks.WEBHOOK_ALLOW_PRIVATE;
  const httpsOnly = config.runtime.NODE_ENV === "production" && !allowPrivate;
  if (url.protocol !== "https:" && (httpsOnly || url.protocol !== "http:")) {
    throw urlProblem(httpsOnly ? "Webhook URLs must use https." : "Expected an http or https URL.");
  }
  if (url.username || url.password) throw urlProblem("Put no user name or password in the URL.");
  url.hash = "";
  const host = await checkHost(url.hostname, { allowPrivate });
  if (!host.allowed) throw urlProblem(`Refused: ${host.reason}.`);
  return url.toString();
}

/** Stores an endpoint with its secret sealed; the URL as given (checkedEndpointUrl first). */
export async function insertSealedEndpoint(
  db: CommonQueryMethods,
  cipher: TokenCipher,
  endpoint: { url: string; events: readonly string[]; secret: string; createdBy: string | null },
): Promise<WebhookEndpoint> {
  const id = crypto.randomUUID();
  return insertWebhookEndpoint(db, {
    id,
    url: endpoint.url,
    events: endpoint.events,
    sealedSecret: await sealWebhookSecret(cipher, id, endpoint.secret),
    createdBy: endpoint.createdBy,
  });
}

export async function addWebhookEndpoint(
  { pool, logger, config, tokenCipher }: EndpointDeps,
  actor: Actor,
  input: WebhookEndpointInput,
): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  const url = await checkedEndpointUrl(input.url, config);
  const secret = newWebhookSecret();
  const cipher = await tokenCipher();
  return pool.transaction(async (tx) => {
    const endpoint = await insertSealedEndpoint(tx, cipher, {
      url,
      events: input.events,
      secret,
      createdBy: actor.actorId,
    });
    // The host only: a URL's path or query may itself be a credential.
    await auditEndpointChange(tx, logger, "admin.webhook_added", actor, endpoint);
    return { endpoint, secret };
  });
}

export async function removeWebhookEndpointAudited(
  { pool, logger }: AuditedDeps,
  actor: Actor,
  id: string,
): Promise<WebhookEndpoint> {
  return pool.transaction(async (tx) => {
    const removed = await removeWebhookEndpoint(tx, id);
    if (!removed) throw new DomainError("webhook_not_found");
    await auditEndpointChange(tx, logger, "admin.webhook_removed", actor, removed);
    return removed;
  });
}

/** An endpoint's delivery log, newest first. */
export async function deliveriesOfEndpoint(
  db: CommonQueryMethods,
  id: string,
  limit: number,
): Promise<readonly WebhookDelivery[]> {
  if (!(await findWebhookEndpoint(db, id))) throw new DomainError("webhook_not_found");
  return listDeliveriesOfEndpoint(db, id, limit);
}

/** Queues a `webhook.test` event to one endpoint, whatever it subscribes to. */
export async function sendTestEvent(
  { pool }: AuditedDeps,
  actor: Actor,
  id: string,
): Promise<WebhookDelivery> {
  const payload = webhookPayload(testEventType, { endpoint_id: id, actor_id: actor.actorId });
  const delivery = await enqueueDeliveryTo(pool, id, { eventType: testEventType, payload });
  if (!delivery) throw new DomainError("webhook_not_found");
  return delivery;
}

function auditEndpointChange(
  tx: CommonQueryMethods,
  logger: AuditedDeps["logger"],
  eventType: string,
  actor: Actor,
  endpoint: WebhookEndpoint,
): Promise<void> {
  return recordAudit(tx, logger, {
    eventType,
    result: "success",
    ...actor,
    context: {
      webhook_id: endpoint.id,
      host: new URL(endpoint.url).host,
      events: endpoint.events,
    },
  });
}

export function webhookEndpoints(db: CommonQueryMethods): Promise<readonly WebhookEndpoint[]> {
  return listWebhookEndpoints(db);
}
