import type { Context } from "hono";
import type { DatabasePool } from "slonik";
import { z } from "zod";
import { pageOfAuditEvents } from "../audit-trail.ts";
import type { Config } from "../config/index.ts";
import { DomainError, fieldError } from "../errors.ts";
import { providerParam } from "../http/account-schemas.ts";
import { ApiRoutes, operationsOf } from "../http/api-route.ts";
import type { AppEnv, Principal } from "../http/app-env.ts";
import { requestAuditFields } from "../http/audit-fields.ts";
import { decodeCursor, encodeCursor } from "../http/cursor.ts";
import { problemOf } from "../http/error-map.ts";
import { formMediaTypes, htmlPage, htmlResponse, refusalPage } from "../http/form-answers.ts";
import { readBody } from "../http/json-body.ts";
import { revokeCallersDevice } from "../http/own-devices.ts";
import type { Problem } from "../http/problem.ts";
import { readQuery } from "../http/query-params.ts";
import { assertRecentAuthOf, hasRecentAuth } from "../http/recent-auth.ts";
import { safeRedirectTarget } from "../http/redirect-target.ts";
import { clearSessionCookie } from "../http/session-cookie.ts";
import type { Logger } from "../logger.ts";
import { securityOverview } from "../mfa/security-overview.ts";
import type { MfaDeps } from "../mfa/totp-enrolment.ts";
import { appsWithAccess, removeAppAccess, toAppView } from "../oidc/apps-with-access.ts";
import {
  accountError,
  accountEventsPage,
  accountNotice,
  accountPage,
  accountPath,
  displayName,
  removeAppPage,
} from "../pages/account-page.tsx";
import type { ProviderName, SignInProvider } from "../providers/sign-in-providers.ts";
import { isPrintableText } from "../text-input.ts";
import { deleteAccount } from "../users/deletion.ts";
import { listDevices, revokeOtherDevices } from "../users/devices.ts";
import { unlinkProvider, updateProfile } from "../users/self-service.ts";
import { linkedAccountsOf } from "../users/user-record.ts";
import { ownUserView } from "../users/user-view.ts";

// The account center's page and forms: the same domain functions as the
// /me JSON routes, answered in HTML. A change that works is answered with a
// redirect back to the page (POST-redirect-GET: a refresh does not send it
// again) naming a fixed notice; a refused one gets the page again with the
// refusal shown and the refusal's status. Every POST passes the CSRF check
// of every other form (src/http/csrf.ts).

const pageOperation = operationsOf({ tag: "pages", access: "gated" });
const html = htmlResponse;
const back = (notice: string) => ({
  303: { description: `Done: back to the account page, which says so (?notice=${notice})` },
});
const refused = { 400: html("Invalid input: the page again, with the refusal shown") };

const profileForm = z.object({
  full_name: z
    .string()
    .trim()
    .max(200, "At most 200 characters.")
    .refine(isPrintableText, "Use printable characters only."),
});
const deleteForm = z.object({ confirm: z.string().max(64) });
const confirmation = z.object({ confirmed: z.literal("yes").optional() });
const eventsQuery = z.object({ cursor: z.string().max(200).optional() });
const eventsOnPage = 25;

export function accountRoutes(
  deps: MfaDeps & {
    config: Pick<Config, "http" | "session">;
    pool: DatabasePool;
    logger: Logger;
    signInProviders: ReadonlyMap<ProviderName, SignInProvider>;
  },
) {
  const { config, pool } = deps;
  const providers = [...deps.signInProviders.values()].map((p) => ({ id: p.name, label: p.label }));
  const routes = new ApiRoutes();
  // Behind the gate (GET /account checks itself), so there is a principal.
  const principalOf = (c: Context<AppEnv>) => c.get("principal") as Principal;

  const page = async (
    c: Context<AppEnv>,
    shown: {
      notice?: string | undefined;
      error?: string | undefined;
      problem?: Problem | undefined;
    },
    continueTo: string | null = null,
  ) => {
    const principal = principalOf(c);
    const userId = principal.user.user_id;
    const [user, overview, linked, devices, apps, events, recent] = await Promise.all([
      ownUserView(pool, userId),
      securityOverview(deps, userId),
      linkedAccountsOf(pool, userId),
      listDevices(deps, userId, principal.sessionId),
      appsWithAccess(pool, userId),
      pageOfAuditEvents(pool, { userId }, 5),
      hasRecentAuth(c),
    ]);
    if (!user) throw new DomainError("not_signed_in");
    return accountPage(
      {
        user,
        providers,
        continueTo,
        overview,
        linked,
        devices,
        apps: apps.map(toAppView),
        events: events.page,
        recent,
      },
      shown,
    );
  };

  /** Runs a form's change; a refusal shows the page again, as it now is, with the reason. */
  const answering = async (c: Context<AppEnv>, run: () => Promise<Response>) => {
    try {
      return await run();
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      const problem = problemOf(error);
      return refusalPage(c, problem, await page(c, { problem }));
    }
  };
  const backTo = (c: Context<AppEnv>, notice: string) =>
    c.redirect(`${accountPath}?notice=${notice}`, 303);

  routes.add(
    pageOperation("GET /account", "showAccountPage", {
      summary:
        "The account center, the signed-in home: profile, password, second factors, providers, devices, apps with access, security events, export and deletion (HTML)",
      access: "signed-in",
      accessCheckedByHandler: true,
      query: z.object({
        notice: z.string().max(32).optional(),
        error: z.string().max(64).optional(),
        redirect_to: z.string().max(2048).optional(),
      }),
      responses: {
        200: html("HTML page"),
        303: { description: "Not signed in: to the sign-in page, which comes back here" },
      },
    }),
    async (c) => {
      if (!c.get("principal")) {
        return c.redirect(`/?redirect_to=${encodeURIComponent(accountPath)}`, 303);
      }
      const requested = c.req.query("redirect_to");
      const continueTo = requested ? safeRedirectTarget(requested, config.http) : null;
      return htmlPage(
        c,
        await page(
          c,
          {
            notice: accountNotice(c.req.query("notice")),
            error: accountError(c.req.query("error")),
          },
          continueTo,
        ),
      );
    },
  );

  routes.add(
    pageOperation("GET /account/events", "showAccountEventsPage", {
      summary: "The signed-in user's own security events, newest first, a page at a time (HTML)",
      query: eventsQuery,
      responses: {
        200: html("HTML page"),
        400: { description: "A cursor this server never issued" },
      },
    }),
    async (c) => {
      const principal = principalOf(c);
      const query = readQuery(c, eventsQuery);
      const cursor = query.cursor ? decodeCursor(query.cursor) : undefined;
      const { page: events, next } = await pageOfAuditEvents(
        pool,
        {
          userId: principal.user.user_id,
          before: cursor ? { occurredAt: cursor.time, id: cursor.id } : undefined,
        },
        eventsOnPage,
      );
      return htmlPage(
        c,
        accountEventsPage({
          name: displayName(principal.user),
          events,
          next: next ? encodeCursor(next.occurredAt, next.id) : null,
        }),
      );
    },
  );

  routes.add(
    pageOperation("POST /account/profile", "saveProfileForm", {
      summary: "Form: change the name (empty removes it)",
      body: profileForm,
      bodyMediaTypes: formMediaTypes,
      responses: { ...back("profile_saved"), ...refused },
    }),
    (c) =>
      answering(c, async () => {
        const { full_name } = await readBody(c, profileForm);
        await updateProfile(
          deps,
          principalOf(c).user.user_id,
          { fullName: full_name === "" ? null : full_name },
          requestAuditFields(c),
        );
        return backTo(c, "profile_saved");
      }),
  );

  routes.add(
    pageOperation("POST /account/sessions/:id/revoke", "revokeDeviceForm", {
      summary: "Form: sign one device out (this one too: then to the sign-in page)",
      responses: {
        ...back("device_revoked"),
        404: html("No such live session of the user: the page again, with the refusal shown"),
      },
    }),
    (c) =>
      answering(c, async () => {
        const { current } = await revokeCallersDevice(c, deps, c.req.param("id"));
        if (current) return c.redirect("/?notice=signed_out", 303);
        return backTo(c, "device_revoked");
      }),
  );

  routes.add(
    pageOperation("POST /account/sessions/revoke-others", "revokeOtherDevicesForm", {
      summary: "Form: sign every other device out",
      responses: back("others_revoked"),
    }),
    async (c) => {
      const principal = principalOf(c);
      await revokeOtherDevices(
        deps,
        principal.user.user_id,
        principal.sessionId,
        requestAuditFields(c),
      );
      return backTo(c, "others_revoked");
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
        return backTo(c, "app_removed");
      }),
  );

  routes.add(
    pageOperation("POST /account/providers/:provider/unlink", "unlinkProviderForm", {
      summary: "Form: unlink a provider (refused when it is the last way to sign in)",
      responses: {
        ...back("unlinked"),
        404: html("No such linked provider: the page again, with the refusal shown"),
        409: html("It is the last way to sign in: the page again, with the reason shown"),
      },
    }),
    (c) =>
      answering(c, async () => {
        const provider = providerParam.safeParse(c.req.param("provider"));
        if (!provider.success) throw new DomainError("provider_not_linked");
        await unlinkProvider(
          deps,
          principalOf(c).user.user_id,
          provider.data,
          requestAuditFields(c),
        );
        return backTo(c, "unlinked");
      }),
  );

  routes.add(
    pageOperation("POST /account/delete", "deleteAccountForm", {
      summary:
        "Form: delete the account, with DELETE typed to confirm (needs a sign-in or step-up within REAUTH_MAX_AGE)",
      body: deleteForm,
      bodyMediaTypes: formMediaTypes,
      recentAuth: "checked-by-handler",
      responses: {
        303: { description: "Deleted and signed out: to the sign-in page, which says so" },
        ...refused,
        401: html("The last sign-in or step-up is too old: the page again, offering the step-up"),
        409: html("The last administrator: the page again, with the reason shown"),
      },
    }),
    (c) =>
      answering(c, async () => {
        await assertRecentAuthOf(c);
        const { confirm } = await readBody(c, deleteForm);
        if (confirm.trim().toUpperCase() !== "DELETE") {
          throw fieldError("validation_failed", "#/confirm", "Type DELETE to confirm.");
        }
        await deleteAccount(deps, {
          userId: principalOf(c).user.user_id,
          actorId: null,
          ...requestAuditFields(c),
          hard: false,
        });
        clearSessionCookie(c, config);
        return c.redirect("/?notice=account_deleted", 303);
      }),
  );

  return routes;
}
