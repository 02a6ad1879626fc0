import type { Context } from "hono";
import type { DatabasePool } from "slonik";
import { z } from "zod";
import type { Config } from "../config/index.ts";
import { ApiRoutes, operationsOf } from "../http/api-route.ts";
import type { AppEnv } from "../http/app-env.ts";
import { requestAuditFields } from "../http/audit-fields.ts";
import { authorizationEndpointPath } from "../http/csrf.ts";
import { formText, optionalParam } from "../http/oidc-client-requests.ts";
import type { Logger } from "../logger.ts";
import { supportedAcrValues } from "../oidc/acr.ts";
import { type BrowserSession, decideAuthorization } from "../oidc/authorization-decision.ts";
import { loginAfterParam, readAuthorizationRequest } from "../oidc/authorization-request.ts";
import { authorizationErrorPage, consentPage } from "../pages/oidc-pages.tsx";

// The OpenID provider's authorization endpoint (code flow) and the consent
// page's answer: the request is read, then decided (sign in through our own
// sign-in page and gate, refuse, ask for consent, or a code), and the
// browser goes back to the client or sees a page, never a problem+json.

const openidOperation = operationsOf({ tag: "openid", access: "anyone" });

const authorizePath = authorizationEndpointPath;

const authorizationQuery = z.object({
  client_id: z.string().max(64),
  redirect_uri: z.string().max(2048),
  response_type: z.literal("code"),
  scope: z.string().max(2048).meta({ description: "Must include openid" }),
  state: optionalParam,
  nonce: optionalParam,
  code_challenge: optionalParam.meta({ description: "PKCE S256; required for public clients" }),
  code_challenge_method: z.literal("S256").optional(),
  prompt: optionalParam.meta({ description: "none, login, consent or select_account" }),
  max_age: optionalParam,
  acr_values: optionalParam.meta({
    description: `Voluntary: the authentication classes wanted, in order of preference (${supportedAcrValues.join(", ")})`,
  }),
  claims: optionalParam.meta({
    description:
      "OpenID Connect Core §5.5: a JSON object with id_token and userinfo members; an acr with essential and values is sought and, unmet, refused",
  }),
});

export function oidcAuthorizationRoutes(deps: {
  config: Pick<Config, "http">;
  pool: DatabasePool;
  logger: Logger;
}) {
  const { pool } = deps;
  const issuer = deps.config.http.PUBLIC_URL;
  const routes = new ApiRoutes();

  /** Sends the browser back to the client's registered redirect URI with `answer` (and state, iss). */
  const backToClient = (
    c: Context<AppEnv>,
    redirectUri: string,
    state: string | null,
    answer: Record<string, string>,
  ) => {
    const url = new URL(redirectUri);
    for (const [name, value] of Object.entries(answer)) url.searchParams.set(name, value);
    if (state !== null) url.searchParams.set("state", state);
    // RFC 9207: the client can tell which issuer answered (mix-up attacks).
    url.searchParams.set("iss", issuer);
    return c.redirect(url.href, 302);
  };

  const browserOf = (c: Context<AppEnv>): BrowserSession | null => {
    const principal = c.get("principal");
    if (principal?.via !== "cookie" || !principal.sessionId) return null;
    return {
      sessionId: principal.sessionId,
      userId: principal.user.user_id,
      status: principal.user.status,
      isWhitelisted: principal.user.is_whitelisted,
      amr: principal.user.amr,
    };
  };

  /** To the sign-in page, coming back to this request (with a fresh sign-in demanded when `again`). */
  const toSignIn = (c: Context<AppEnv>, params: URLSearchParams, again: boolean) => {
    const resumed = new URLSearchParams(params);
    if (again) {
      const prompt = (resumed.get("prompt") ?? "").split(" ").filter((p) => p && p !== "login");
      if (prompt.length > 0) resumed.set("prompt", prompt.join(" "));
      else resumed.delete("prompt");
      resumed.set(loginAfterParam, String(Date.now()));
    }
    const target = `${authorizePath}?${resumed}`;
    return c.redirect(
      `/?redirect_to=${encodeURIComponent(target)}${again ? "&prompt=login" : ""}`,
      302,
    );
  };

  const authorize = async (
    c: Context<AppEnv>,
    params: URLSearchParams,
    consented: boolean | null = null,
  ) => {
    c.header("cache-control", "no-store");
    const read = await readAuthorizationRequest(pool, params);
    if (read.kind === "unredirectable") return c.html(authorizationErrorPage(read.detail), 400);
    if (read.kind === "refused") {
      return backToClient(c, read.redirectUri, read.state, {
        error: read.error,
        error_description: read.description,
      });
    }
    const { request } = read;
    const back = (answer: Record<string, string>) =>
      backToClient(c, request.redirectUri, request.state, answer);
    if (consented === false) {
      return back({ error: "access_denied", error_description: "The user did not allow it." });
    }
    const decision = await decideAuthorization(deps, request, browserOf(c), requestAuditFields(c), {
      consented: consented === true,
    });
    switch (decision.kind) {
      case "sign_in":
        return toSignIn(c, params, decision.again);
      case "refused":
        return back({ error: decision.error, error_description: decision.description });
      case "consent":
        return c.html(consentPage(request.client.name, request.scopes, consentParams(params)));
      case "code":
        return back({ code: decision.code });
    }
  };

  routes.add(
    openidOperation("GET /oauth2/authorize", "authorize", {
      summary:
        "OpenID Connect authorization endpoint (code flow): signs the browser in through Gatehouse's sign-in page if needed, then 302s to the client's redirect URI with code, state and iss",
      query: authorizationQuery,
      responses: {
        302: {
          description:
            "To the sign-in page (coming back here after it), or to the registered redirect URI with code or error (RFC 6749 §4.1.2), state and iss (RFC 9207)",
        },
        200: {
          description: "The consent page, for a client that is not first-party",
          contentType: "text/html",
        },
        400: {
          description:
            "An unknown client or an unregistered redirect URI: an error page, never a redirect",
          contentType: "text/html",
        },
      },
    }),
    (c) => authorize(c, new URL(c.req.url).searchParams),
  );

  routes.add(
    openidOperation("POST /oauth2/authorize", "authorizeByForm", {
      summary:
        "The authorization endpoint with its parameters as a form (OpenID Connect Core §3.1.2.1), answered as the same request by GET",
      bodyMediaTypes: ["application/x-www-form-urlencoded"],
      body: authorizationQuery,
      responses: {
        302: {
          description:
            "To the sign-in page (coming back by GET), or to the registered redirect URI with code or error, state and iss",
        },
        200: { description: "The consent page", contentType: "text/html" },
        400: {
          description: "An unknown client or an unregistered redirect URI: an error page",
          contentType: "text/html",
        },
      },
    }),
    async (c) => authorize(c, new URLSearchParams(await formText(c))),
  );

  routes.add(
    openidOperation("POST /oauth2/consent", "answerConsent", {
      summary: "The consent page's answer: decision=allow or deny, with the authorization request",
      bodyMediaTypes: ["application/x-www-form-urlencoded"],
      body: authorizationQuery.extend({ decision: z.enum(["allow", "deny"]) }),
      responses: {
        302: { description: "To the client's redirect URI with a code, or error=access_denied" },
        400: {
          description: "An unknown client or an unregistered redirect URI",
          contentType: "text/html",
        },
      },
    }),
    async (c) => {
      const params = new URLSearchParams(await formText(c));
      const decision = params.get("decision");
      params.delete("decision");
      return authorize(c, params, decision === "allow" ? true : decision === "deny" ? false : null);
    },
  );

  return routes;
}

/** The consent form carries the request without prompt=consent, which its answer fulfils. */
function consentParams(params: URLSearchParams): URLSearchParams {
  const carried = new URLSearchParams(params);
  const prompt = (carried.get("prompt") ?? "").split(" ").filter((p) => p && p !== "consent");
  if (prompt.length > 0) carried.set("prompt", prompt.join(" "));
  else carried.delete("prompt");
  return carried;
}
