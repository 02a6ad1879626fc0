import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { Config } from "../config/index.ts";

// The secret of a pending sign-in (a first factor proved, a second one owed).
// Its Path keeps browsers from sending it anywhere but /auth/mfa, and nothing
// else reads it: the session middleware never looks at it, so it opens no
// route. SameSite=Strict: it is needed only by the second-factor page's own
// POST. With https it is Secure and `__Secure-` prefixed (`__Host-` would
// need Path=/).

export const pendingSignInPath = "/auth/mfa";

/** The second-factor page, carrying where to go once signed in. */
export function secondFactorPageUrl(redirectTo: string): string {
  return redirectTo === "/"
    ? pendingSignInPath
    : `${pendingSignInPath}?${new URLSearchParams({ redirect_to: redirectTo })}`;
}

export function pendingSignInCookieName(config: Pick<Config, "http">): string {
  return config.http.PUBLIC_URL.startsWith("https:")
    ? "__Secure-gatehouse_mfa_pending"
    : "gatehouse_mfa_pending";
}

const cookieOptions = (config: Pick<Config, "http">) => ({
  path: pendingSignInPath,
  httpOnly: true,
  secure: config.http.PUBLIC_URL.startsWith("https:"),
  sameSite: "Strict" as const,
});

export function readPendingSignInCookie(
  c: Context,
  config: Pick<Config, "http">,
): string | undefined {
  return getCookie(c, pendingSignInCookieName(config));
}

export function writePendingSignInCookie(
  c: Context,
  config: Pick<Config, "http">,
  secret: string,
  expiresAt: Date,
): void {
  setCookie(c, pendingSignInCookieName(config), secret, {
    ...cookieOptions(config),
    maxAge: Math.max(1, Math.floor((expiresAt.getTime() - Date.now()) / 1000)),
  });
}

export function clearPendingSignInCookie(c: Context, config: Pick<Config, "http">): void {
  deleteCookie(c, pendingSignInCookieName(config), cookieOptions(config));
}
