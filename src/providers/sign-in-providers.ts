import type { Config, OAuthProviderName } from "../config/index.ts";
import { DomainError } from "../errors.ts";
import type { Profile } from "./profile.ts";

// What a sign-in provider is: the social providers (social-provider.ts) and
// any OpenID Connect issuer (openid-connect.ts) alike. Each one is reduced to
// two steps so the routes and the account logic never see a provider's
// quirks: begin (where to send the browser, and the secrets to keep in the
// flow cookie) and finish (the callback → one normalised identity, or a
// ProviderFailure). This module names the shape only; enabled-providers.ts
// builds the configured ones.

export type ProviderName = OAuthProviderName | "oidc";

/** Kept in the browser's short-lived flow cookie between begin and finish. */
export type FlowSecrets = {
  state: string;
  /** PKCE (RFC 7636), where the provider's flow supports it. */
  codeVerifier?: string;
  /** OpenID Connect nonce, bound into the ID token. */
  nonce?: string;
};

export type ProviderTokens = {
  accessToken: string | null;
  refreshToken: string | null;
  tokenType: string | null;
  scope: string | null;
  expiresAt: Date | null;
};

/** Who the provider says the person is; an email counts only when `emailVerified`. */
export type ProviderIdentity = Profile & {
  provider: ProviderName;
  /** GitHub only, and only read when a github_org/github_team rule exists. */
  githubOrgs?: string[];
  githubTeams?: string[];
  /**
   * OpenID Connect only: the ID token's `amr`, how the issuer authenticated
   * the person (RFC 8176: `mfa`, `otp`, `pwd`, ...).
   */
  amr?: string[];
  tokens: ProviderTokens;
};

/** What the sign-in needs to know about allowlist rules before talking to the provider. */
export type MembershipNeeds = { githubOrgs: boolean; githubTeams: boolean };

export type SignInProvider = {
  name: ProviderName;
  /** Shown on the sign-in page. */
  label: string;
  begin: (needs: MembershipNeeds) => Promise<{ authorizationUrl: string; secrets: FlowSecrets }>;
  /** `callbackUrl` is PUBLIC_URL's callback address with the provider's query string. */
  finish: (
    callbackUrl: URL,
    secrets: FlowSecrets,
    needs: MembershipNeeds,
  ) => Promise<ProviderIdentity>;
};

/**
 * A sign-in that the provider refused (`refused`: a bad or replayed code, an
 * ID token that fails validation) or that failed because the provider's answer
 * was unusable (`unavailable`: a 5xx, HTML, garbage, a timeout); answered as
 * `provider_refused` or `provider_unavailable`. `detail` is for the log only:
 * it may quote the provider, so the client gets the code's usual sentence.
 */
export class ProviderFailure extends DomainError {
  override name = "ProviderFailure";
  declare readonly code: "provider_refused" | "provider_unavailable";
  readonly detail: string;
  constructor(
    readonly kind: "refused" | "unavailable",
    detail: string,
  ) {
    super(kind === "refused" ? "provider_refused" : "provider_unavailable");
    // Library errors can quote a request URL, and some providers (Facebook)
    // take the client secret and the code in the query string.
    const safe = detail.replace(/\?[^\s"'`]*/g, "?[query removed]").slice(0, 500);
    this.message = `${kind}: ${safe}`;
    this.detail = safe;
  }
}

export const providerLabels: Record<ProviderName, string> = {
  github: "GitHub",
  google: "Google",
  discord: "Discord",
  facebook: "Facebook",
  linkedin: "LinkedIn",
  x: "X",
  twitch: "Twitch",
  msentra: "Microsoft",
  oidc: "OpenID Connect",
};

/** PUBLIC_URL's callback address: providers must see the public one, never the request's. */
export function callbackUrlOf(config: Pick<Config, "http">, provider: ProviderName): string {
  return `${config.http.PUBLIC_URL}/auth/${provider}/callback`;
}
