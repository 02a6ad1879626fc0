import type { Context } from "hono";
import { z } from "zod";
import { DomainError } from "../errors.ts";
import { actorOf } from "../http/admin-request.ts";
import { ApiRoutes, operationsOf } from "../http/api-route.ts";
import { readBody } from "../http/json-body.ts";
import { readQuery } from "../http/query-params.ts";
import {
  addWebhookEndpoint,
  deliveriesOfEndpoint,
  type EndpointDeps,
  removeWebhookEndpointAudited,
  sendTestEvent,
  toDeliveryView,
  toEndpointView,
  webhookEndpointBody,
  webhookEndpoints,
} from "../webhooks/endpoints.ts";
import { webhookEventTypes } from "../webhooks/events.ts";

const adminOperation = operationsOf({ tag: "admin", access: "admin" });

const endpointResponse = z
  .object({
    id: z.uuid(),
    url: z.string(),
    events: z.array(z.enum(webhookEventTypes)),
    created_by: z.uuid().nullable(),
    created_at: z.iso.datetime(),
  })
  .meta({ id: "WebhookEndpoint", description: "Where events are delivered" });

const deliveryResponse = z
  .object({
    id: z.uuid().meta({ description: "The webhook-id header of every attempt" }),
    event_type: z.string(),
    status: z.enum(["pending", "delivered", "failed"]),
    attempts: z.number().int(),
    last_response_code: z.number().int().nullable(),
    last_error: z.string().nullable(),
    created_at: z.iso.datetime(),
    last_attempt_at: z.iso.datetime().nullable(),
    next_attempt_at: z.iso.datetime().nullable(),
  })
  .meta({ id: "WebhookDelivery", description: "One event sent (or being sent) to one endpoint" });

const deliveriesQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) });

/** The :id of the path, or 404 (a malformed id names no endpoint). */
function endpointId(c: Context): string {
  const id = z.uuid().safeParse(c.req.param("id"));
  if (!id.success) throw new DomainError("webhook_not_found");
  return id.data;
}

export function adminWebhookRoutes(deps: EndpointDeps) {
  const routes = new ApiRoutes();

  routes.add(
    adminOperation("GET /admin/webhooks", "listWebhookEndpoints", {
      summary: "Webhook endpoints",
      responses: {
        200: {
          description: "The endpoints",
          body: z.object({ webhooks: z.array(endpointResponse) }),
        },
      },
    }),
    async (c) => {
      const endpoints = await webhookEndpoints(deps.pool);
      return c.json({ webhooks: endpoints.map(toEndpointView) });
    },
  );

  routes.add(
    adminOperation("POST /admin/webhooks", "addWebhookEndpoint", {
      summary: "Add a webhook endpoint; its signing secret is answered this once",
      body: webhookEndpointBody,
      responses: {
        201: {
          description: "The new endpoint and its secret (whsec_…)",
          body: endpointResponse.extend({ secret: z.string() }),
        },
      },
    }),
    async (c) => {
      const body = await readBody(c, webhookEndpointBody);
      const { endpoint, secret } = await addWebhookEndpoint(deps, actorOf(c), body);
      return c.json({ ...toEndpointView(endpoint), secret }, 201);
    },
  );

  routes.add(
    adminOperation("DELETE /admin/webhooks/:id", "deleteWebhookEndpoint", {
      summary: "Delete a webhook endpoint and its delivery log",
      responses: { 204: { description: "Deleted" }, 404: { description: "No such endpoint" } },
    }),
    async (c) => {
      await removeWebhookEndpointAudited(deps, actorOf(c), endpointId(c));
      return c.body(null, 204);
    },
  );

  routes.add(
    adminOperation("GET /admin/webhooks/:id/deliveries", "listWebhookDeliveries", {
      summary: "An endpoint's delivery log, newest first",
      query: deliveriesQuery,
      responses: {
        200: {
          description: "The deliveries",
          body: z.object({ deliveries: z.array(deliveryResponse) }),
        },
        404: { description: "No such endpoint" },
      },
    }),
    async (c) => {
      const { limit } = readQuery(c, deliveriesQuery);
      const deliveries = await deliveriesOfEndpoint(deps.pool, endpointId(c), limit);
      return c.json({ deliveries: deliveries.map(toDeliveryView) });
    },
  );

  routes.add(
    adminOperation("POST /admin/webhooks/:id/test", "sendWebhookTestEvent", {
      summary: "Queue a webhook.test event to the endpoint",
      responses: {
        202: { description: "The queued delivery", body: deliveryResponse },
        404: { description: "No such endpoint" },
      },
    }),
    async (c) => {
      const delivery = await sendTestEvent(deps, actorOf(c), endpointId(c));
      return c.json(toDeliveryView(delivery), 202);
    },
  );

  return routes;
}
