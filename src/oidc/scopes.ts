// The scopes the OpenID provider knows, and what each lets a relying party
// learn (OpenID Connect Core §5.4; `groups` is the role, as Grafana, Gitea
// and Outline read it; `offline_access` earns a refresh token, §11).

export const supportedScopes = ["openid", "email", "profile", "groups", "offline_access"] as const;
export type Scope = (typeof supportedScopes)[number];

const isScope = (value: string): value is Scope =>
  (supportedScopes as readonly string[]).includes(value);

/**
 * The scopes of a request that we know and the client may ask for, in our
 * order. Unknown scopes are ignored, as Core §3.1.2.1 lets a provider do.
 */
export function grantedScopes(requested: string, allowed: readonly string[]): Scope[] {
  const asked = new Set(requested.split(" ").filter(isScope));
  return supportedScopes.filter((scope) => asked.has(scope) && allowed.includes(scope));
}

/** The claims each scope releases, for the discovery document. */
export const claimsSupported = [
  "sub",
  "iss",
  "aud",
  "exp",
  "iat",
  "auth_time",
  "nonce",
  "amr",
  "acr",
  "azp",
  "at_hash",
  "email",
  "email_verified",
  "name",
  "preferred_username",
  "picture",
  "groups",
] as const;
