import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { Config } from "../config/index.ts";

// With https, the cookie is Secure and `__Host-` prefixed: the browser then
// refuses it from plain http and from any sibling sub-domain. A shared
// COOKIE_DOMAIN (one sign-in for every app under it) cannot carry a Domain
// attribute under `__Host-`, so it gets `__Secure-` instead.

export function sessionCookieName(config: Pick<Config, "http" | "session">): string {
  if (!config.http.PUBLIC_URL.startsWith("https:")) return "gatehouse_session";
  return config.http.COOKIE_DOMAIN ? "__Secure-gatehouse_session" : "__Host-gatehouse_session";
}

function cookieOptions(config: Pick<Config, "http" | "session">) {
  const secure = config.http.PUBLIC_URL.startsWith("https:");
  return {
    path: "/",
    httpOnly: true,
    secure,
    sameSite: "Lax" as const,
    ...(config.http.COOKIE_DOMAIN ? { domain: config.http.COOKIE_DOMAIN } : {}),
  };
}

export function readSessionCookie(
  c: Context,
  config: Pick<Config, "http" | "session">,
): string | undefined {
  return getCookie(c, sessionCookieName(config));
}

export function writeSessionCookie(
  c: Context,
  config: Pick<Config, "http" | "session">,
  secret: string,
): void {
  setCookie(c, sessionCookieName(config), secret, {
    ...cookieOptions(config),
    maxAge: Math.floor(config.session.SESSION_TTL / 1000),
  });
}

export function clearSessionCookie(c: Context, config: Pick<Config, "http" | "session">): void {
  deleteCookie(c, sessionCookieName(config), cookieOptions(config));
}
