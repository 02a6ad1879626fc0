import { timingSafeEqual } from "node:crypto";
import type { Config, OAuthProviderName } from "../config/index.ts";
import {
  authorizationRedirect,
  type OAuthClient,
  readProviderJson,
  redeemCode,
} from "./oauth2-code-flow.ts";
import type { Profile } from "./profile.ts";
import {
  callbackUrlOf,
  ProviderFailure,
  type ProviderIdentity,
  providerLabels,
  type SignInProvider,
} from "./sign-in-providers.ts";
import { socialDefinitions } from "./social-definitions.ts";

// A social provider as a SignInProvider: its definition (social-definitions.ts)
// driven through the authorization code flow (oauth2-code-flow.ts).

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The provider built from its <NAME>_CLIENT_ID/_SECRET, or null when either is unset. */
export function socialProvider(
  name: OAuthProviderName,
  config: Pick<Config, "http" | "providers">,
): SignInProvider | null {
  const upper = name.toUpperCase() as Uppercase<OAuthProviderName>;
  const clientId = config.providers[`${upper}_CLIENT_ID`];
  const clientSecret = config.providers[`${upper}_CLIENT_SECRET`];
  if (!clientId || !clientSecret) return null;
  const client: OAuthClient = { clientId, clientSecret, redirectUri: callbackUrlOf(config, name) };
  const definition = socialDefinitions[name];
  const endpoints = definition.endpoints({ msentraTenantId: config.providers.MSENTRA_TENANT_ID });

  return {
    name,
    label: providerLabels[name],

    begin: async (needs) =>
      authorizationRedirect(
        endpoints,
        client,
        definition.scopes(needs).join(" "),
        definition.authorizeParams,
      ),

    finish: async (callbackUrl, secrets, needs) => {
      // Only the code is taken from the callback, and only when the state is this flow's.
      const state = callbackUrl.searchParams.get("state") ?? "";
      const code = callbackUrl.searchParams.get("code");
      if (!sameSecret(state, secrets.state)) {
        throw new ProviderFailure("refused", "the state is not this flow's");
      }
      if (!code) throw new ProviderFailure("refused", "no code in the callback");
      const tokens = await redeemCode(endpoints, client, code, secrets);
      const answer = await readProviderJson(`${name} profile`, endpoints.profileUrl, {
        headers: {
          authorization: `Bearer ${tokens.accessToken}`,
          ...definition.profileHeaders?.(clientId),
        },
      });
      let profile: Profile;
      try {
        profile = definition.profile(answer);
      } catch {
        throw new ProviderFailure("unavailable", "the profile lacks an id or has an odd shape");
      }
      const identity: ProviderIdentity = { provider: name, ...profile, tokens };
      return definition.complete ? definition.complete(identity, needs) : identity;
    },
  };
}
