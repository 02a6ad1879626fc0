import type { Context } from "hono";
import type { DatabasePool } from "slonik";
import { z } from "zod";
import { recordAudit } from "../audit.ts";
import type { Config } from "../config/index.ts";
import { ApiRoutes, operationsOf } from "../http/api-route.ts";
import type { AppEnv } from "../http/app-env.ts";
import { requestAuditFields } from "../http/audit-fields.ts";
import { formText, optionalParam } from "../http/oidc-client-requests.ts";
import { clearSessionCookie } from "../http/session-cookie.ts";
import type { Logger } from "../logger.ts";
import { readEndSession } from "../oidc/end-session.ts";
import type { IdTokens } from "../oidc/id-tokens.ts";
import { authorizationErrorPage, signedOutPage, signOutConfirmPage } from "../pages/oidc-pages.tsx";
import type { CredentialCache } from "../sessions/credential-cache.ts";
import { signOutSession } from "../sessions/sessions.ts";

// The OpenID provider's RP-initiated logout: a relying party sends the
// browser here to be signed out, then back to the client or to a page.

const openidOperation = operationsOf({ tag: "openid", access: "anyone" });

const endSessionQuery = z.object({
  id_token_hint: optionalParam,
  client_id: optionalParam,
  post_logout_redirect_uri: optionalParam,
  state: optionalParam,
});

export function oidcLogoutRoutes(deps: {
  config: Pick<Config, "http" | "session">;
  pool: DatabasePool;
  logger: Logger;
  idTokens: IdTokens;
  credentialCache?: CredentialCache | undefined;
}) {
  const { config, pool } = deps;
  const routes = new ApiRoutes();

  const endSession = async (c: Context<AppEnv>, params: URLSearchParams, confirmed: boolean) => {
    c.header("cache-control", "no-store");
    const read = await readEndSession(deps, params);
    if (read.kind === "unredirectable") return c.html(authorizationErrorPage(read.detail), 400);
    const principal = c.get("principal");
    const session = principal?.via === "cookie" ? principal.sessionId : null;
    if (session && principal) {
      // Without proof that the application speaks for this user (an ID
      // token we issued to them), a link on any site could sign them out:
      // ask first (RP-Initiated Logout §2).
      if (!confirmed && read.hintedUser !== principal.user.user_id) {
        return c.html(signOutConfirmPage(params));
      }
      await signOutSession(pool, session, deps.credentialCache);
      clearSessionCookie(c, config);
      // Audited as every sign-out is; relying parties that asked are told (backchannel-events.ts).
      await recordAudit(pool, deps.logger, {
        eventType: "logout",
        result: "success",
        userId: principal.user.user_id,
        ...requestAuditFields(c),
        context: { via: "end_session" },
      });
    }
    return read.redirectTo ? c.redirect(read.redirectTo, 302) : c.html(signedOutPage());
  };
  const endSessionResponses = {
    302: { description: "Signed out, to the registered post_logout_redirect_uri (with state)" },
    200: { description: "The confirmation page, or the signed-out page", contentType: "text/html" },
    400: {
      description:
        "An unregistered post_logout_redirect_uri or a foreign id_token_hint: an error page",
      contentType: "text/html",
    },
  };
  routes.add(
    openidOperation("GET /oauth2/logout", "endSession", {
      summary:
        "RP-initiated logout: signs the browser out (asking first unless id_token_hint names its user), then to post_logout_redirect_uri",
      query: endSessionQuery,
      responses: endSessionResponses,
    }),
    (c) => endSession(c, new URL(c.req.url).searchParams, false),
  );
  routes.add(
    openidOperation("POST /oauth2/logout", "confirmEndSession", {
      summary: "The sign-out confirmation page's answer",
      bodyMediaTypes: ["application/x-www-form-urlencoded"],
      body: endSessionQuery,
      responses: endSessionResponses,
    }),
    async (c) => endSession(c, new URLSearchParams(await formText(c)), true),
  );

  return routes;
}
