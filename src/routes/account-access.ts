import type { Context } from "hono";
import { z } from "zod";
import type { Config } from "../config/index.ts";
import { DomainError } from "../errors.ts";
import { ApiRoutes } from "../http/api-route.ts";
import type { AppEnv } from "../http/app-env.ts";
import { requestAuditFields } from "../http/audit-fields.ts";
import { formMediaTypes, htmlPage } from "../http/form-answers.ts";
import { readBody } from "../http/json-body.ts";
import { revokeCallersDevice } from "../http/own-devices.ts";
import { appsWithAccess, removeAppAccess, toAppView } from "../oidc/apps-with-access.ts";
import { removeAppPage } from "../pages/account/apps.tsx";
import { accountPath } from "../pages/account/path.ts";
import {
  type AccountCenterDeps,
  accountPageDeclarations,
  answeringWithAccountPage,
  backToAccount,
  principalOf,
} from "../pages/account-center.ts";
import { displayName } from "../pages/account-page.tsx";
import { revokeOtherDevices } from "../users/devices.ts";

// The account center's forms about what is signed in to the account: its
// devices (one signed out, or every other one) and the apps with access
// (one removed, after a confirmation step). /me/sessions and /me/apps are
// their JSON twins.

const { operation: pageOperation, html, done, refused } = accountPageDeclarations;
const confirmation = z.object({ confirmed: z.literal("yes").optional() });

export function accountAccessRoutes(
  deps: AccountCenterDeps & { config: Pick<Config, "http" | "session"> },
) {
  const { pool } = deps;
  const routes = new ApiRoutes();
  const answering = (c: Context<AppEnv>, run: () => Promise<Response>) =>
    answeringWithAccountPage(deps, c, run);

  routes.add(
    pageOperation("POST /account/sessions/:id/revoke", "revokeDeviceForm", {
      summary: "Form: sign one device out (this one too: then to the sign-in page)",
      responses: {
        ...done("device_revoked"),
        404: html("No such live session of the user: the page again, with the refusal shown"),
      },
    }),
    (c) =>
      answering(c, async () => {
        const { current } = await revokeCallersDevice(c, deps, c.req.param("id"));
        if (current) return c.redirect("/?notice=signed_out", 303);
        return backToAccount(c, "device_revoked");
      }),
  );

  routes.add(
    pageOperation("POST /account/sessions/revoke-others", "revokeOtherDevicesForm", {
      summary: "Form: sign every other device out",
      responses: done("others_revoked"),
    }),
    async (c) => {
      const principal = principalOf(c);
      await revokeOtherDevices(
        deps,
        principal.user.user_id,
        principal.sessionId,
        requestAuditFields(c),
      );
      return backToAccount(c, "others_revoked");
    },
  );

  routes.add(
    pageOperation("GET /account/apps/:clientId/remove", "showRemoveAppPage", {
      summary: "The confirmation step of removing an app's access (HTML)",
      responses: {
        200: html("HTML page: what removing does, and the button that does it"),
        404: html("No such app with access: the account page, with the refusal shown"),
      },
    }),
    (c) =>
      answering(c, async () => {
        const principal = principalOf(c);
        const app = (await appsWithAccess(pool, principal.user.user_id)).find(
          (a) => a.client_id === c.req.param("clientId"),
        );
        if (!app) throw new DomainError("client_not_found");
        return htmlPage(
          c,
          removeAppPage({ name: displayName(principal.user), app: toAppView(app) }),
        );
      }),
  );

  routes.add(
    pageOperation("POST /account/apps/:clientId/remove", "removeAppForm", {
      summary:
        "Form: remove an app's access (its consent, sessions and tokens); without confirmed=yes, to the confirmation step",
      body: confirmation,
      bodyMediaTypes: formMediaTypes,
      responses: {
        303: {
          description:
            "Removed: back to the account page, which says so (?notice=app_removed); without confirmed=yes, to the confirmation step",
        },
        ...refused,
        404: html("No such app with access: the page again, with the refusal shown"),
      },
    }),
    (c) =>
      answering(c, async () => {
        const clientId = c.req.param("clientId");
        if (!z.uuid().safeParse(clientId).success) throw new DomainError("client_not_found");
        const form = await readBody(c, confirmation);
        // A removal without its second step does nothing but ask for it.
        if (form.confirmed !== "yes") {
          return c.redirect(`${accountPath}/apps/${clientId}/remove`, 303);
        }
        await removeAppAccess(deps, principalOf(c).user.user_id, clientId, requestAuditFields(c));
        return backToAccount(c, "app_removed");
      }),
  );

  return routes;
}
