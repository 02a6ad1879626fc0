import { z } from "zod";
import { ConfigError } from "./config-error.ts";
import type { RuntimeConfig } from "./runtime.ts";
import { duration, httpUrl, optionalText, symmetricKeys } from "./values.ts";

/** The social providers Gatehouse knows (src/providers/social-definitions.ts), by their environment prefix. */
export const oauthProviderNames = [
  "github",
  "google",
  "discord",
  "facebook",
  "linkedin",
  "x",
  "twitch",
  "msentra",
] as const;
export type OAuthProviderName = (typeof oauthProviderNames)[number];

const providerCredentials = Object.fromEntries(
  oauthProviderNames.flatMap((name) => [
    [`${name.toUpperCase()}_CLIENT_ID`, optionalText],
    [`${name.toUpperCase()}_CLIENT_SECRET`, optionalText],
  ]),
) as Record<`${Uppercase<OAuthProviderName>}_CLIENT_${"ID" | "SECRET"}`, typeof optionalText>;

/** Sign-in at other parties: social providers, one OpenID Connect issuer, and the key that encrypts their tokens. */
export const providersSchema = z.object({
  ...providerCredentials,
  OIDC_ISSUER: httpUrl.optional(),
  OIDC_CLIENT_ID: optionalText,
  OIDC_CLIENT_SECRET: optionalText,
  OIDC_NAME: z.string().trim().min(1).default("OpenID Connect"),
  /** Scopes asked of the OpenID Connect issuer (openid is always included). */
  OIDC_SCOPES: z.string().trim().min(1).default("openid email profile"),
  /** How the client secret reaches the token endpoint; unset: Basic unless the issuer only takes POST. */
  OIDC_TOKEN_AUTH_METHOD: z
    .enum(["client_secret_basic", "client_secret_post"], {
      message: "expected client_secret_basic or client_secret_post",
    })
    .optional(),
  /** Microsoft Entra tenant: common, organizations, consumers or a tenant id. */
  MSENTRA_TENANT_ID: z.string().trim().min(1).default("common"),
  /** How long a browser may take at the provider before the sign-in must start again. */
  OAUTH_FLOW_TTL: duration("10m"),
  /** Encrypt the provider tokens stored with linked accounts; the first encrypts, all decrypt. */
  TOKEN_ENCRYPTION_KEYS: symmetricKeys,
});

export type ProvidersConfig = z.infer<typeof providersSchema>;

/**
 * The server's own check (the CLI's migrate or backup seals nothing); throws
 * ConfigError. In production the server needs its encryption keys from the
 * start: provider tokens, authenticator-app secrets and webhook signing
 * secrets are sealed with them, and a missing key found at the first such
 * request would be a failed request instead of a refused start.
 */
export function checkServerProviders(providers: ProvidersConfig, runtime: RuntimeConfig): void {
  if (runtime.NODE_ENV === "production" && !providers.TOKEN_ENCRYPTION_KEYS.length) {
    throw new ConfigError(
      "TOKEN_ENCRYPTION_KEYS: required in production (kid:base64 of 32 random bytes); provider tokens, authenticator-app secrets and webhook secrets are sealed with it",
    );
  }
}
