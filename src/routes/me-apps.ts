import type { DatabasePool } from "slonik";
import { z } from "zod";
import { ApiRoutes, operationsOf } from "../http/api-route.ts";
import type { Principal } from "../http/app-env.ts";
import { requestAuditFields } from "../http/audit-fields.ts";
import type { Logger } from "../logger.ts";
import { appsWithAccess, removeAppAccess, toAppView } from "../oidc/apps-with-access.ts";

// The caller's "apps with access" as JSON: the same list and the same
// removal as the account center's section (src/pages/account/apps.tsx).

const accountOperation = operationsOf({ tag: "account", access: "gated" });

const appResponse = z
  .object({
    client_id: z.uuid(),
    name: z.string(),
    first_party: z.boolean().meta({ description: "Trusted by the operator: never asks consent" }),
    scopes: z
      .array(z.string())
      .meta({ description: "What the user allowed, else what the app's live tokens carry" }),
    consented_at: z.iso
      .datetime()
      .nullable()
      .meta({ description: "When the user last allowed it (null: never asked)" }),
    signed_in: z.boolean().meta({ description: "The app holds live tokens of the user" }),
    last_used_at: z.iso.datetime().nullable(),
  })
  .meta({ id: "AppWithAccess", description: "An OpenID Connect relying party the user let in" });

const principalOf = (c: { get: (k: "principal") => Principal | null }) =>
  c.get("principal") as Principal;

export function meAppRoutes(deps: { pool: DatabasePool; logger: Logger }) {
  const routes = new ApiRoutes();

  routes.add(
    accountOperation("GET /me/apps", "listMyApps", {
      summary:
        "The apps (OpenID Connect clients) the caller consented to or that hold the caller's tokens",
      responses: {
        200: { description: "The apps, by name", body: z.object({ apps: z.array(appResponse) }) },
      },
    }),
    async (c) => {
      const apps = await appsWithAccess(deps.pool, principalOf(c).user.user_id);
      c.header("cache-control", "no-store");
      return c.json({ apps: apps.map(toAppView) });
    },
  );

  routes.add(
    accountOperation("DELETE /me/apps/:clientId", "removeMyApp", {
      summary:
        "Remove an app's access: its consent is withdrawn and its sessions and tokens end (refresh tokens included)",
      responses: {
        204: { description: "Removed: the next sign-in to the app asks consent again" },
        404: { description: "The app has no consent and no live tokens of the caller" },
      },
    }),
    async (c) => {
      await removeAppAccess(
        deps,
        principalOf(c).user.user_id,
        c.req.param("clientId"),
        requestAuditFields(c),
      );
      return c.body(null, 204);
    },
  );

  return routes;
}
