import type { Config } from "../config/index.ts";
import type { Logger } from "../logger.ts";
import { openIdConnectProvider } from "./openid-connect.ts";
import { type ProviderName, providerLabels, type SignInProvider } from "./sign-in-providers.ts";
import { socialProvider } from "./social-provider.ts";

/** The providers configured with credentials, in the order the sign-in page lists them. */
export function enabledProviders(
  config: Pick<Config, "http" | "providers" | "runtime">,
  logger: Logger,
): Map<ProviderName, SignInProvider> {
  const providers = new Map<ProviderName, SignInProvider>();
  for (const name of Object.keys(providerLabels) as ProviderName[]) {
    const provider =
      name === "oidc" ? openIdConnectProvider(config, logger) : socialProvider(name, config);
    if (provider) providers.set(name, provider);
  }
  return providers;
}
