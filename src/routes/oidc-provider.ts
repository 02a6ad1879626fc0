import type { Context } from "hono";
import type { DatabasePool } from "slonik";
import { z } from "zod";
import { recordAudit } from "../audit.ts";
import type { Config } from "../config/index.ts";
import { DomainError, errorCodes } from "../errors.ts";
import { ApiRoutes, operationsOf } from "../http/api-route.ts";
import type { AppEnv } from "../http/app-env.ts";
import { requestAuditFields } from "../http/audit-fields.ts";
import { authorizationEndpointPath } from "../http/csrf.ts";
import { invalidRequest, readFields, refusal } from "../http/oauth-answers.ts";
import { clearSessionCookie } from "../http/session-cookie.ts";
import type { Logger } from "../logger.ts";
import { supportedAcrValues } from "../oidc/acr.ts";
import {
  type BrowserSession,
  decideAuthorization,
  loginAfterParam,
  readAuthorizationRequest,
} from "../oidc/authorization.ts";
import { readEndSession } from "../oidc/end-session.ts";
import type { IdTokens } from "../oidc/id-tokens.ts";
import { revokeClientToken } from "../oidc/revocation.ts";
import { claimsSupported, supportedScopes } from "../oidc/scopes.ts";
import {
  authenticateClient,
  type ClientTokenResponse,
  redeemAuthorizationCode,
  refreshClientTokens,
  userinfoPath,
} from "../oidc/token-exchange.ts";
import { userinfoOf } from "../oidc/userinfo.ts";
import {
  authorizationErrorPage,
  consentPage,
  signedOutPage,
  signOutConfirmPage,
} from "../pages/oidc-pages.tsx";
import type { CredentialCache } from "../sessions/credential-cache.ts";
import { signOutSession } from "../sessions/sessions.ts";
import type { AccessTokens } from "../tokens/access-tokens.ts";
import { bearerTokenOf } from "../tokens/bearer.ts";

// Gatehouse as an OpenID Connect provider: discovery, the authorization
// endpoint (through our own sign-in and gate), consent, the token endpoint,
// userinfo and RP-initiated logout. The token endpoint answers RFC 6749
// errors, the browser endpoints redirect to the client or show a page, the
// rest answer problems like the whole API.

const openidOperation = operationsOf({ tag: "openid", access: "anyone" });

const authorizePath = authorizationEndpointPath;
const tokenPath = "/oauth2/token";
const endSessionPath = "/oauth2/logout";

const optionalParam = z.string().max(2048).optional();
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

const discoveryResponse = z
  .object({
    issuer: z.string(),
    authorization_endpoint: z.string(),
    token_endpoint: z.string(),
    userinfo_endpoint: z.string(),
    jwks_uri: z.string(),
    end_session_endpoint: z.string(),
    revocation_endpoint: z.string(),
    scopes_supported: z.array(z.string()),
    response_types_supported: z.array(z.string()),
    response_modes_supported: z.array(z.string()),
    grant_types_supported: z.array(z.string()),
    subject_types_supported: z.array(z.string()),
    id_token_signing_alg_values_supported: z.array(z.string()),
    token_endpoint_auth_methods_supported: z.array(z.string()),
    code_challenge_methods_supported: z.array(z.string()),
    claims_supported: z.array(z.string()),
    acr_values_supported: z.array(z.string()),
    prompt_values_supported: z.array(z.string()),
    authorization_response_iss_parameter_supported: z.boolean(),
    claims_parameter_supported: z.boolean(),
    backchannel_logout_supported: z.boolean(),
    backchannel_logout_session_supported: z.boolean(),
    request_parameter_supported: z.boolean(),
    request_uri_parameter_supported: z.boolean(),
  })
  .meta({ id: "OpenIdConfiguration", description: "OpenID Connect Discovery 1.0 metadata" });

const clientTokenResponse = z
  .object({
    access_token: z.string(),
    token_type: z.literal("Bearer"),
    expires_in: z.number().int(),
    id_token: z.string(),
    scope: z.string(),
    refresh_token: z.string().optional().meta({ description: "With offline_access" }),
  })
  .meta({ id: "OpenIdTokenResponse", description: "OpenID Connect Core §3.1.3.3" });

const clientTokenError = z
  .object({
    error: z.enum(["invalid_request", "invalid_grant", "invalid_client", "unsupported_grant_type"]),
    error_description: z.string(),
    code: z.enum(errorCodes).meta({ description: "Gatehouse's stable code (docs/errors.md)" }),
  })
  .meta({ id: "OpenIdTokenError", description: "RFC 6749 §5.2 error response" });

/** What the token and revocation endpoints answer a client that fails authentication. */
const invalidClientAnswer = {
  description: "invalid_client: unknown client, or a wrong or missing secret",
  body: clientTokenError,
  contentType: "application/json",
};

const clientRevokeRequest = z.object({
  token: z.string().min(1).max(8192),
  token_type_hint: z
    .string()
    .max(64)
    .optional()
    .meta({ description: "Ignored: both kinds are tried" }),
  client_id: z.string().max(64).optional(),
  client_secret: z.string().max(256).optional(),
});

const clientTokenRequest = z.discriminatedUnion("grant_type", [
  z.object({
    grant_type: z.literal("authorization_code"),
    code: z.string().max(256),
    redirect_uri: z.string().max(2048),
    code_verifier: z.string().max(128).optional(),
    client_id: z.string().max(64).optional(),
    client_secret: z.string().max(256).optional(),
  }),
  z.object({
    grant_type: z.literal("refresh_token"),
    refresh_token: z.string().max(512),
    client_id: z.string().max(64).optional(),
    client_secret: z.string().max(256).optional(),
  }),
]);

const userinfoResponse = z
  .object({
    sub: z.string(),
    email: z.string().optional(),
    email_verified: z.boolean().optional(),
    name: z.string().optional(),
    preferred_username: z.string().optional(),
    picture: z.string().optional(),
    groups: z.array(z.string()).optional(),
    acr: z
      .string()
      .optional()
      .meta({ description: "When the claims parameter asked userinfo for it" }),
  })
  .meta({ id: "UserInfo", description: "The claims the access token's scopes release" });

const endSessionQuery = z.object({
  id_token_hint: optionalParam,
  client_id: optionalParam,
  post_logout_redirect_uri: optionalParam,
  state: optionalParam,
});

type OidcDeps = {
  config: Pick<Config, "http" | "session" | "tokens">;
  pool: DatabasePool;
  logger: Logger;
  accessTokens: AccessTokens;
  idTokens: IdTokens;
  credentialCache?: CredentialCache | undefined;
};

export function oidcProviderRoutes(deps: OidcDeps) {
  const { config, pool } = deps;
  const issuer = config.http.PUBLIC_URL;
  const routes = new ApiRoutes();

  routes.add(
    openidOperation("GET /.well-known/openid-configuration", "getOpenIdConfiguration", {
      summary: "OpenID Connect discovery: the provider's endpoints and what it supports",
      responses: { 200: { description: "The provider metadata", body: discoveryResponse } },
    }),
    (c) => {
      c.header("cache-control", "public, max-age=300");
      c.header("access-control-allow-origin", "*");
      return c.json(
        discoveryResponse.parse({
          issuer,
          authorization_endpoint: `${issuer}${authorizePath}`,
          token_endpoint: `${issuer}${tokenPath}`,
          userinfo_endpoint: `${issuer}${userinfoPath}`,
          jwks_uri: `${issuer}/.well-known/jwks.json`,
          end_session_endpoint: `${issuer}${endSessionPath}`,
          revocation_endpoint: `${issuer}/oauth2/revoke`,
          scopes_supported: [...supportedScopes],
          response_types_supported: ["code"],
          response_modes_supported: ["query"],
          grant_types_supported: ["authorization_code", "refresh_token"],
          subject_types_supported: ["public"],
          id_token_signing_alg_values_supported: [...deps.idTokens.algs],
          token_endpoint_auth_methods_supported: [
            "client_secret_basic",
            "client_secret_post",
            "none",
          ],
          code_challenge_methods_supported: ["S256"],
          claims_supported: [...claimsSupported],
          acr_values_supported: [...supportedAcrValues],
          prompt_values_supported: ["none", "login", "consent", "select_account"],
          authorization_response_iss_parameter_supported: true,
          claims_parameter_supported: true,
          backchannel_logout_supported: true,
          // Logout tokens name the user (sub), not a session: no sid.
          backchannel_logout_session_supported: false,
          request_parameter_supported: false,
          request_uri_parameter_supported: false,
        }),
      );
    },
  );

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

  routes.add(
    openidOperation("POST /oauth2/token", "redeemOpenIdGrant", {
      summary:
        "OpenID Connect token endpoint: grant_type=authorization_code (with code_verifier for PKCE) or refresh_token; client_secret_basic, client_secret_post, or none for a public client",
      bodyMediaTypes: ["application/x-www-form-urlencoded", "application/json"],
      body: clientTokenRequest,
      responses: {
        200: {
          description: "Access token, ID token and (offline_access) refresh token",
          body: clientTokenResponse,
        },
        400: {
          description: "invalid_request, invalid_grant or unsupported_grant_type",
          body: clientTokenError,
          contentType: "application/json",
        },
        401: invalidClientAnswer,
      },
    }),
    async (c) => {
      try {
        const read = await readFields(c);
        if ("refused" in read) throw invalidRequest(read.refused);
        const fields = read.fields;
        const text = (name: string, max: number) => {
          const value = fields[name];
          if (value === undefined) return null;
          if (typeof value !== "string" || value.length > max) {
            throw invalidRequest(`${name} must be text of at most ${max} characters.`);
          }
          return value;
        };
        const credentials = clientCredentials(c.req.header("authorization"), {
          clientId: text("client_id", 64),
          secret: text("client_secret", 256),
        });
        const facts = requestAuditFields(c);
        const grantType = text("grant_type", 64);
        if (!grantType) throw invalidRequest("grant_type is required.");
        if (grantType !== "authorization_code" && grantType !== "refresh_token") {
          throw new DomainError("unsupported_grant_type", {
            detail: "grant_type must be authorization_code or refresh_token.",
          });
        }
        const client = await authenticateClient(pool, credentials.clientId, credentials.secret);
        let tokens: ClientTokenResponse;
        if (grantType === "authorization_code") {
          const code = text("code", 256);
          if (!code) throw invalidRequest("code is required.");
          tokens = await redeemAuthorizationCode(
            deps,
            client,
            {
              code,
              redirectUri: text("redirect_uri", 2048),
              codeVerifier: text("code_verifier", 256),
            },
            facts,
          );
        } else {
          const refreshToken = text("refresh_token", 512);
          if (!refreshToken) throw invalidRequest("refresh_token is required.");
          tokens = await refreshClientTokens(deps, client, refreshToken, facts);
        }
        c.header("cache-control", "no-store");
        c.header("pragma", "no-cache");
        return c.json(tokens, 200);
      } catch (error) {
        if (error instanceof DomainError) return refusal(c, error);
        throw error;
      }
    },
  );

  routes.add(
    openidOperation("POST /oauth2/revoke", "revokeOpenIdToken", {
      summary:
        "RFC 7009 revocation by a relying party of a refresh or access token issued to it (client authentication as at the token endpoint); always 200 for a token",
      bodyMediaTypes: ["application/x-www-form-urlencoded"],
      body: clientRevokeRequest,
      responses: {
        200: { description: "Revoked, or nothing of the client's to revoke" },
        400: {
          description: "No token given",
          body: clientTokenError,
          contentType: "application/json",
        },
        401: invalidClientAnswer,
      },
    }),
    async (c) => {
      try {
        const read = await readFields(c);
        if ("refused" in read) throw invalidRequest(read.refused);
        const request = clientRevokeRequest.safeParse(read.fields);
        if (!request.success) throw invalidRequest("token is required.");
        const credentials = clientCredentials(c.req.header("authorization"), {
          clientId: request.data.client_id ?? null,
          secret: request.data.client_secret ?? null,
        });
        const client = await authenticateClient(pool, credentials.clientId, credentials.secret);
        await revokeClientToken(
          deps,
          client,
          request.data.token,
          `${issuer}${userinfoPath}`,
          requestAuditFields(c),
        );
        c.header("cache-control", "no-store");
        return c.body(null, 200);
      } catch (error) {
        if (error instanceof DomainError) return refusal(c, error);
        throw error;
      }
    },
  );

  const userinfo = async (c: Context<AppEnv>) => {
    const token = bearerTokenOf(c.req.header("authorization"));
    if (!token) throw new DomainError("invalid_token");
    c.header("cache-control", "no-store");
    return c.json(await userinfoOf(deps, token, `${issuer}${userinfoPath}`));
  };
  const userinfoDeclaration = {
    summary: "OpenID Connect userinfo: the claims the access token's scopes release",
    responses: {
      200: { description: "The user's claims", body: userinfoResponse },
      401: { description: "No, or an invalid, expired or revoked, relying party's access token" },
    },
  };
  routes.add(openidOperation("GET /oauth2/userinfo", "getUserInfo", userinfoDeclaration), userinfo);
  routes.add(
    openidOperation("POST /oauth2/userinfo", "postUserInfo", userinfoDeclaration),
    userinfo,
  );

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

/** The consent form carries the request without prompt=consent, which its answer fulfils. */
function consentParams(params: URLSearchParams): URLSearchParams {
  const carried = new URLSearchParams(params);
  const prompt = (carried.get("prompt") ?? "").split(" ").filter((p) => p && p !== "consent");
  if (prompt.length > 0) carried.set("prompt", prompt.join(" "));
  else carried.delete("prompt");
  return carried;
}

/** A form's body as text; anything else is refused. */
async function formText(c: Context<AppEnv>): Promise<string> {
  const type = c.req.header("content-type")?.split(";")[0]?.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") throw new DomainError("unsupported_media_type");
  return c.req.text();
}

/**
 * The client's id and secret: HTTP Basic (RFC 6749 §2.3.1, both
 * form-urlencoded inside) or the body's client_id and client_secret, never
 * both ways at once.
 */
function clientCredentials(
  authorization: string | undefined,
  body: { clientId: string | null; secret: string | null },
): { clientId: string; secret: string | null } {
  const basic = authorization ? /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(authorization) : null;
  if (authorization !== undefined && !basic) {
    throw new DomainError("invalid_client", {
      detail: "Only HTTP Basic client authentication is accepted in the Authorization header.",
    });
  }
  if (basic) {
    if (body.secret !== null) throw invalidRequest("Use one client authentication method.");
    const decoded = Buffer.from(basic[1] as string, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    let clientId: string;
    let secret: string;
    try {
      const form = (text: string) => decodeURIComponent(text.replaceAll("+", " "));
      clientId = form(colon < 0 ? decoded : decoded.slice(0, colon));
      secret = form(colon < 0 ? "" : decoded.slice(colon + 1));
    } catch {
      throw new DomainError("invalid_client");
    }
    if (body.clientId !== null && body.clientId !== clientId) {
      throw invalidRequest("client_id differs from the one in the Authorization header.");
    }
    return { clientId, secret };
  }
  if (!body.clientId) throw new DomainError("invalid_client", { detail: "client_id is required." });
  return { clientId: body.clientId, secret: body.secret };
}
