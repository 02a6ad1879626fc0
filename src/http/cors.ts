import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import type { Config } from "../config/index.ts";
import type { AppEnv } from "./app-env.ts";

/**
 * The routes a browser app on another origin calls with bearer tokens: the
 * token and revocation endpoints, the published keys and other well-known
 * documents, and the caller's own account. Nothing else answers CORS:
 * forward-auth, the pages, the admin API and the cookie-only routes
 * (`/auth/token/session`, `/auth/login`, ...) stay same-origin.
 */
export const crossOriginPaths = [
  "/auth/token",
  "/auth/revoke",
  "/.well-known/*",
  "/oauth2/token",
  "/oauth2/userinfo",
  "/oauth2/revoke",
  "/me",
  "/me/*",
] as const;

// Chromium caps a cached preflight at two hours; a longer value buys nothing.
// Caching it is harmless: each answer still has to name the origin.
const preflightMaxAgeSeconds = 7200;

/**
 * CORS for CORS_ALLOWED_ORIGINS (null when there are none: no CORS header at
 * all). Bearer tokens only: credentials are never allowed, so a browser
 * neither sends our cookies on these cross-origin calls nor lets a page read
 * an answer to a request that carried them (see docs/decisions.md). Marks
 * a request from an allowed origin for the CSRF check.
 */
export function crossOriginBearer(config: Pick<Config, "http">): MiddlewareHandler<AppEnv> | null {
  const allowed = new Set(config.http.CORS_ALLOWED_ORIGINS);
  if (allowed.size === 0) return null;
  const answer = cors({
    origin: (origin) => (allowed.has(origin) ? origin : null),
    allowMethods: ["GET", "POST", "PATCH", "DELETE"],
    allowHeaders: ["Authorization", "Content-Type"],
    // What a client reads off a refusal: when to retry, why a token failed, which log line.
    exposeHeaders: ["Retry-After", "WWW-Authenticate", "X-Request-Id"],
    maxAge: preflightMaxAgeSeconds,
    credentials: false,
  });
  return async (c, next) => {
    if (allowed.has(c.req.header("origin") ?? "")) {
      c.set("crossOriginAllowed", true);
      return answer(c, next);
    }
    // Any other origin gets no CORS header, so its page cannot read the
    // answer; the answer still varies by Origin for shared caches.
    await next();
    c.header("Vary", "Origin", { append: true });
  };
}
