import { z } from "zod";
import type { Config } from "../config/index.ts";
import { ApiRoutes, operationsOf } from "../http/api-route.ts";
import { authorizationEndpointPath } from "../http/csrf.ts";
import { supportedAcrValues } from "../oidc/acr.ts";
import type { IdTokens } from "../oidc/id-tokens.ts";
import { claimsSupported, supportedScopes } from "../oidc/scopes.ts";
import { userinfoPath } from "../oidc/token-exchange.ts";

// OpenID Connect Discovery: where the provider's endpoints are and what
// they support (docs/openid-provider.md).

const openidOperation = operationsOf({ tag: "openid", access: "anyone" });

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

export function oidcDiscoveryRoutes(deps: {
  config: Pick<Config, "http">;
  idTokens: Pick<IdTokens, "algs">;
}) {
  const issuer = deps.config.http.PUBLIC_URL;
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
          authorization_endpoint: `${issuer}${authorizationEndpointPath}`,
          token_endpoint: `${issuer}/oauth2/token`,
          userinfo_endpoint: `${issuer}${userinfoPath}`,
          jwks_uri: `${issuer}/.well-known/jwks.json`,
          end_session_endpoint: `${issuer}/oauth2/logout`,
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

  return routes;
}
