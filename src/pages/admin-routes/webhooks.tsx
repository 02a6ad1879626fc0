import { Hono } from "hono";
import { z } from "zod";
import { DomainError } from "../../errors.ts";
import { actorOf } from "../../http/admin-request.ts";
import type { AppEnv } from "../../http/app-env.ts";
import { errorMessage } from "../../http/error-map.ts";
import { readBody } from "../../http/json-body.ts";
import { assertRecentAuthOf } from "../../http/recent-auth.ts";
import {
  addWebhookEndpoint,
  deliveriesOfEndpoint,
  type EndpointDeps,
  removeWebhookEndpointAudited,
  sendTestEvent,
  webhookEndpointBody,
  webhookEndpoints,
} from "../../webhooks/endpoints.ts";
import { withFlash } from "../admin/flash.ts";
import { Layout } from "../admin/layout.tsx";
import { WebhookAdded, WebhookEndpoints } from "../admin/webhooks.tsx";
import {
  changeThenBack,
  confirmation,
  confirmedChange,
  confirmScreen,
  flashOf,
  frameOf,
  notFoundScreen,
  requireAdminPage,
} from "./answers.tsx";

// The console's webhooks: the endpoints with their latest deliveries,
// adding one (its secret shown once), a test event, and removal.

/** How many of an endpoint's deliveries its screen lists. */
const latestDeliveries = 10;

export function adminWebhookScreens(deps: EndpointDeps) {
  const { pool } = deps;
  const app = new Hono<AppEnv>();

  app.get("/admin/view/webhooks", requireAdminPage(), async (c) => {
    const endpoints = await webhookEndpoints(pool);
    const deliveries = new Map(
      await Promise.all(
        endpoints.map(
          async (e) => [e.id, await deliveriesOfEndpoint(pool, e.id, latestDeliveries)] as const,
        ),
      ),
    );
    return c.html(
      <Layout title="Webhooks" frame={await frameOf(c, pool, "webhooks")} {...flashOf(c)}>
        <WebhookEndpoints endpoints={endpoints} deliveries={deliveries} />
      </Layout>,
    );
  });

  app.post("/admin/forms/webhooks", requireAdminPage(), async (c) => {
    const form = await c.req.formData().catch(() => null);
    const input = webhookEndpointBody.safeParse({
      url: form?.get("url"),
      events: form?.getAll("events"),
    });
    if (!input.success) {
      return c.redirect(withFlash("/admin/view/webhooks", { error: "validation_failed" }), 303);
    }
    try {
      await assertRecentAuthOf(c);
      const added = await addWebhookEndpoint(deps, actorOf(c), input.data);
      c.header("cache-control", "no-store");
      return c.html(
        <Layout title="Endpoint added" frame={await frameOf(c, pool, "webhooks")}>
          <WebhookAdded {...added} />
        </Layout>,
      );
    } catch (error) {
      if (error instanceof DomainError) {
        return c.redirect(withFlash("/admin/view/webhooks", { error: error.code }), 303);
      }
      throw error;
    }
  });

  app.post("/admin/forms/webhooks/:id/test", requireAdminPage(), async (c) => {
    await readBody(c, z.object({}));
    const id = z.uuid().safeParse(c.req.param("id"));
    return changeThenBack(c, "/admin/view/webhooks", "webhook_test_sent", async () => {
      await assertRecentAuthOf(c);
      if (!id.success) throw new DomainError("webhook_not_found");
      await sendTestEvent(deps, actorOf(c), id.data);
    });
  });

  app.get("/admin/view/webhooks/:id/remove", requireAdminPage(), async (c) => {
    const id = z.uuid().safeParse(c.req.param("id"));
    const endpoint = id.success
      ? (await webhookEndpoints(pool)).find((e) => e.id === id.data)
      : undefined;
    if (!endpoint) return notFoundScreen(c, pool, errorMessage("webhook_not_found"));
    return confirmScreen(c, pool, "webhooks", {
      subject: endpoint.url,
      question: "Remove the webhook endpoint",
      consequence:
        "It is sent nothing more, and its delivery log is deleted with it; deliveries still waiting are dropped.",
      button: "Remove endpoint",
      action: `/admin/forms/webhooks/${endpoint.id}/remove`,
      fields: {},
      cancelHref: "/admin/view/webhooks",
    });
  });

  app.post("/admin/forms/webhooks/:id/remove", requireAdminPage(), (c) =>
    confirmedChange(
      c,
      confirmation,
      {
        confirmHref: (id) => `/admin/view/webhooks/${id}/remove`,
        back: "/admin/view/webhooks",
        notice: "webhook_removed",
        missing: "webhook_not_found",
      },
      (id) => removeWebhookEndpointAudited(deps, actorOf(c), id),
    ),
  );

  return app;
}
