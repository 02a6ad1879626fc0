import * as client from "openid-client";
import type { Config } from "../config/index.ts";
import type { Logger } from "../logger.ts";
import { profileOf } from "./profile.ts";
import {
  callbackUrlOf,
  ProviderFailure,
  type ProviderIdentity,
  type SignInProvider,
} from "./sign-in-providers.ts";

// Any OpenID Connect issuer (Keycloak, Okta, Entra ID, Auth0, Google
// Workspace) through openid-client: discovery from OIDC_ISSUER, the
// authorization code flow with PKCE (S256) and a nonce, and the ID token
// validated by the library (signature against the issuer's JWKS, iss, aud,
// exp, nonce). The user is the ID token's `sub`.

const timeoutSeconds = 10;

function failureOf(error: unknown): ProviderFailure {
  if (error instanceof ProviderFailure) return error;
  if (error instanceof client.ResponseBodyError) {
    // invalid_grant (a used or forged code) and its kin are the issuer refusing.
    return new ProviderFailure(
      error.status < 500 ? "refused" : "unavailable",
      `${error.error}: ${error.error_description ?? ""}`,
    );
  }
  if (error instanceof client.AuthorizationResponseError) {
    return new ProviderFailure("refused", `${error.error}: ${error.error_description ?? ""}`);
  }
  if (error instanceof client.ClientError && /JWT|CLAIM|NONCE|STATE/.test(error.code ?? "")) {
    // An ID token that fails validation: a wrong nonce, audience, issuer or signature.
    return new ProviderFailure("refused", `${error.code}: ${error.message}`);
  }
  return new ProviderFailure("unavailable", String(error));
}

/**
 * client_secret_basic unless the issuer says it only takes the secret in the
 * body: Basic is the one every server must accept (RFC 6749 §2.3.1) and the
 * default an unspecified registration gets (OpenID Connect Registration §2),
 * e.g. at Okta and oidc-provider.
 */
function tokenAuthMethod(supported: readonly string[] | undefined) {
  if (!supported || supported.includes("client_secret_basic")) return "client_secret_basic";
  return supported.includes("client_secret_post") ? "client_secret_post" : "client_secret_basic";
}

export function openIdConnectProvider(
  config: Pick<Config, "http" | "providers" | "runtime">,
  logger: Logger,
): SignInProvider | null {
  const issuer = config.providers.OIDC_ISSUER;
  const clientId = config.providers.OIDC_CLIENT_ID;
  if (!issuer || !clientId) return null;
  const redirectUri = callbackUrlOf(config, "oidc");
  const scope = config.providers.OIDC_SCOPES.split(/\s+/).includes("openid")
    ? config.providers.OIDC_SCOPES
    : `openid ${config.providers.OIDC_SCOPES}`;

  const secret = config.providers.OIDC_CLIENT_SECRET;
  const insecure = issuer.startsWith("http:") && config.runtime.NODE_ENV !== "production";

  // Discovery happens on first use, not at start, so an issuer that is down
  // does not stop Gatehouse; a failed discovery is retried on the next sign-in.
  let discovered: Promise<client.Configuration> | null = null;
  const configuration = () => {
    discovered ??= client
      .discovery(new URL(issuer), clientId, undefined, client.None(), {
        timeout: timeoutSeconds,
        // Plain-http issuers only outside production (a local Keycloak, tests).
        execute: insecure ? [client.allowInsecureRequests] : [],
      })
      .then((probe) => {
        const server = probe.serverMetadata();
        const method = secret
          ? (config.providers.OIDC_TOKEN_AUTH_METHOD ??
            tokenAuthMethod(server.token_endpoint_auth_methods_supported))
          : "none";
        const oidc = new client.Configuration(
          server,
          clientId,
          secret ? { client_secret: secret } : undefined,
          method === "client_secret_basic"
            ? client.ClientSecretBasic(secret)
            : method === "client_secret_post"
              ? client.ClientSecretPost(secret)
              : client.None(),
        );
        oidc.timeout = timeoutSeconds;
        if (insecure) client.allowInsecureRequests(oidc);
        return oidc;
      })
      .catch((error: unknown) => {
        discovered = null;
        logger.warn({ err: error, issuer }, "OpenID Connect discovery failed");
        throw new ProviderFailure("unavailable", `discovery: ${String(error)}`);
      });
    return discovered;
  };

  return {
    name: "oidc",
    label: config.providers.OIDC_NAME,

    begin: async () => {
      const oidc = await configuration();
      const secrets = {
        state: client.randomState(),
        nonce: client.randomNonce(),
        codeVerifier: client.randomPKCECodeVerifier(),
      };
      const url = client.buildAuthorizationUrl(oidc, {
        redirect_uri: redirectUri,
        scope,
        state: secrets.state,
        nonce: secrets.nonce,
        code_challenge: await client.calculatePKCECodeChallenge(secrets.codeVerifier),
        code_challenge_method: "S256",
      });
      return { authorizationUrl: url.toString(), secrets };
    },

    finish: async (callbackUrl, secrets) => {
      const oidc = await configuration();
      if (!secrets.nonce || !secrets.codeVerifier) {
        throw new ProviderFailure("refused", "the flow cookie lacks the nonce or PKCE verifier");
      }
      try {
        const tokens = await client.authorizationCodeGrant(oidc, callbackUrl, {
          pkceCodeVerifier: secrets.codeVerifier,
          expectedState: secrets.state,
          expectedNonce: secrets.nonce,
          idTokenExpected: true,
        });
        const claims = tokens.claims();
        const expiresIn = tokens.expiresIn();
        if (!claims) throw new ProviderFailure("refused", "no ID token");
        let profile: Record<string, unknown> = claims;
        // Many issuers keep email and name out of the ID token and serve them at userinfo.
        if (claims.email === undefined && oidc.serverMetadata().userinfo_endpoint) {
          profile = { ...(await client.fetchUserInfo(oidc, tokens.access_token, claims.sub)) };
        }
        const text = (value: unknown) => (typeof value === "string" ? value : null);
        const identity: ProviderIdentity = {
          provider: "oidc",
          ...profileOf(
            claims.sub,
            text(profile.email),
            // Some issuers (Cognito's userinfo) send the claim as the string "true".
            profile.email_verified === true || profile.email_verified === "true",
            text(profile.name),
            text(profile.picture),
          ),
          ...amrOf(claims.amr),
          tokens: {
            accessToken: tokens.access_token,
            refreshToken: tokens.refresh_token ?? null,
            tokenType: tokens.token_type ?? null,
            scope: tokens.scope ?? null,
            expiresAt: expiresIn ? new Date(Date.now() + expiresIn * 1000) : null,
          },
        };
        return identity;
      } catch (error) {
        throw failureOf(error);
      }
    },
  };
}

/** The ID token's `amr` when it is a list of short names (RFC 8176); anything else is none. */
function amrOf(claim: unknown): { amr?: string[] } {
  if (!Array.isArray(claim)) return {};
  const names = claim.filter((v): v is string => typeof v === "string" && /^[\w.-]{1,64}$/.test(v));
  return names.length > 0 ? { amr: names.slice(0, 16) } : {};
}
