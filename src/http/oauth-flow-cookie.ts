import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { z } from "zod";
import type { Config } from "../config/index.ts";
import type { FlowSecrets, ProviderName } from "../providers/sign-in-providers.ts";

// Between the redirect to a provider and its callback, the browser holds one
// short-lived HttpOnly cookie: which provider, the state (CSRF on the
// callback: a code the attacker obtained for their own account cannot be
// pushed into a victim's browser, RFC 6749 §10.12), the PKCE verifier and
// nonce where used, and where to go afterwards. SameSite=Lax lets it ride the
// top-level redirect back from the provider. It is cleared by the callback
// whatever the outcome, so a callback URL cannot be replayed in that browser.

const flowCookie = z.object({
  provider: z.string(),
  state: z.string().min(16).max(256),
  codeVerifier: z.string().max(256).optional(),
  nonce: z.string().max(256).optional(),
  redirectTo: z.string().max(2048),
  /** Set when a signed-in user links this provider from the account page: who. */
  linkUserId: z.uuid().optional(),
  /** Epoch ms; a copy kept past OAUTH_FLOW_TTL is refused even if a browser would send it. */
  startedAt: z.number().int(),
});
export type FlowCookie = z.infer<typeof flowCookie>;

function cookieName(config: Pick<Config, "http" | "providers">): string {
  return config.http.PUBLIC_URL.startsWith("https:") ? "__Host-gatehouse_oauth" : "gatehouse_oauth";
}

function options(config: Pick<Config, "http" | "providers">) {
  return {
    path: "/",
    httpOnly: true,
    secure: config.http.PUBLIC_URL.startsWith("https:"),
    sameSite: "Lax" as const,
  };
}

export function writeFlowCookie(
  c: Context,
  config: Pick<Config, "http" | "providers">,
  flow: { provider: ProviderName; secrets: FlowSecrets; redirectTo: string; linkUserId?: string },
): void {
  const value: FlowCookie = {
    provider: flow.provider,
    ...flow.secrets,
    redirectTo: flow.redirectTo,
    ...(flow.linkUserId ? { linkUserId: flow.linkUserId } : {}),
    startedAt: Date.now(),
  };
  setCookie(c, cookieName(config), Buffer.from(JSON.stringify(value)).toString("base64url"), {
    ...options(config),
    maxAge: Math.max(1, Math.floor(config.providers.OAUTH_FLOW_TTL / 1000)),
  });
}

/** The flow cookie, or null when absent or not one of ours. */
export function readFlowCookie(
  c: Context,
  config: Pick<Config, "http" | "providers">,
): FlowCookie | null {
  const raw = getCookie(c, cookieName(config));
  if (!raw || raw.length > 4096) return null;
  try {
    const parsed = flowCookie.safeParse(JSON.parse(Buffer.from(raw, "base64url").toString("utf8")));
    if (!parsed.success) return null;
    const age = Date.now() - parsed.data.startedAt;
    return age >= 0 && age <= config.providers.OAUTH_FLOW_TTL ? parsed.data : null;
  } catch {
    return null;
  }
}

export function clearFlowCookie(c: Context, config: Pick<Config, "http" | "providers">): void {
  deleteCookie(c, cookieName(config), options(config));
}
