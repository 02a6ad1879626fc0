import type { MiddlewareHandler } from "hono";
import { csrf } from "hono/csrf";
import type { Config } from "../config.ts";
import type { AppEnv } from "./app-env.ts";
import { readSessionCookie } from "./session-cookie.ts";

/**
 * Cross-site request forgery: a state-changing request that a browser sends
 * with our cookie, or that a browser marks as cross-site, must come from our
 * own origin (Sec-Fetch-Site: same-origin, or an Origin equal to PUBLIC_URL's;
 * the request URL is no guide behind a load balancer). JSON bodies cannot be
 * sent cross-site without a CORS preflight we never grant, so Hono's check
 * covers the form and text types. REST clients (no cookie, no Sec-Fetch-*)
 * are not browsers and pass.
 */
export function csrfProtection(config: Config): MiddlewareHandler<AppEnv> {
  const check = csrf({ origin: new URL(config.PUBLIC_URL).origin, secFetchSite: "same-origin" });
  const safeMethod = /^(GET|HEAD|OPTIONS)$/;
  return async (c, next) => {
    // What Hono's check passes anyway, without parsing the cookies again.
    if (safeMethod.test(c.req.method)) return next();
    const fromBrowser =
      readSessionCookie(c, config) !== undefined || c.req.header("sec-fetch-site") !== undefined;
    if (!fromBrowser) return next();
    return check(c, next);
  };
}
