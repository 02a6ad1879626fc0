import type { Context } from "hono";
import { z } from "zod";
import { pageOfAuditEvents } from "../audit-trail.ts";
import type { Config } from "../config/index.ts";
import { DomainError, fieldError } from "../errors.ts";
import { providerParam } from "../http/account-schemas.ts";
import { ApiRoutes } from "../http/api-route.ts";
import type { AppEnv } from "../http/app-env.ts";
import { requestAuditFields } from "../http/audit-fields.ts";
import { decodeCursor, encodeCursor } from "../http/cursor.ts";
import { formMediaTypes, htmlPage } from "../http/form-answers.ts";
import { readBody } from "../http/json-body.ts";
import { readQuery } from "../http/query-params.ts";
import { assertRecentAuthOf } from "../http/recent-auth.ts";
import { safeRedirectTarget } from "../http/redirect-target.ts";
import { clearSessionCookie } from "../http/session-cookie.ts";
import type { MfaDeps } from "../mfa/totp-enrolment.ts";
import { accountEventsPage } from "../pages/account/events.tsx";
import { accountPath } from "../pages/account/path.ts";
import {
  type AccountCenterDeps,
  accountCenterPage,
  accountPageDeclarations,
  answeringWithAccountPage,
  backToAccount,
  principalOf,
} from "../pages/account-center.ts";
import { accountError, accountNotice, displayName } from "../pages/account-page.tsx";
import { isPrintableText } from "../text-input.ts";
import { deleteAccount } from "../users/deletion.ts";
import { unlinkProvider, updateProfile } from "../users/self-service.ts";

// The account center (GET /account), its security events and the forms
// about the account itself: profile, unlinking a provider, deletion. They
// call the same domain functions as the /me JSON routes, answered in HTML
// (devices and apps have theirs in account-access.ts). Every POST passes the
// CSRF check of every other form (src/http/csrf.ts).

const { operation: pageOperation, html, done, refused } = accountPageDeclarations;

const profileForm = z.object({
  full_name: z
    .string()
    .trim()
    .max(200, "At most 200 characters.")
    .refine(isPrintableText, "Use printable characters only."),
});
const deleteForm = z.object({ confirm: z.string().max(64) });
const eventsQuery = z.object({ cursor: z.string().max(200).optional() });
const eventsOnPage = 25;

export function accountRoutes(
  deps: MfaDeps & AccountCenterDeps & { config: Pick<Config, "http" | "session"> },
) {
  const { config, pool } = deps;
  const routes = new ApiRoutes();
  const answering = (c: Context<AppEnv>, run: () => Promise<Response>) =>
    answeringWithAccountPage(deps, c, run);

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
        await accountCenterPage(
          deps,
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
      responses: { ...done("profile_saved"), ...refused },
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
        return backToAccount(c, "profile_saved");
      }),
  );

  routes.add(
    pageOperation("POST /account/providers/:provider/unlink", "unlinkProviderForm", {
      summary: "Form: unlink a provider (refused when it is the last way to sign in)",
      responses: {
        ...done("unlinked"),
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
        return backToAccount(c, "unlinked");
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
