import type { MiddlewareHandler } from "hono";
import { csrf } from "hono/csrf";
import { HTTPException } from "hono/http-exception";
import type { Config } from "../config/index.ts";
import { DomainError } from "../errors.ts";
import type { AppEnv } from "./app-env.ts";
import { readPendingSignInCookie } from "./pending-sign-in-cookie.ts";
import { readSessionCookie } from "./session-cookie.ts";

/** The OpenID provider's authorization endpoint, which a relying party may also POST a form to. */
export const authorizationEndpointPath = "/oauth2/authorize";

/**
 * Cross-site request forgery: a state-changing request that a browser sends
 * with our cookie, or that a browser marks as cross-site, must come from our
 * own origin (Sec-Fetch-Site: same-origin, or an Origin equal to PUBLIC_URL's;
 * the request URL is no guide behind a load balancer). JSON bodies cannot be
 * sent cross-site without a CORS preflight we never grant, so Hono's check
 * covers the form and text types. REST clients (no cookie, no Sec-Fetch-*,
 * no Origin) are not browsers and pass. An Origin alone marks a browser too:
 * a cross-site form that signs the victim into the attacker's account (login
 * CSRF) carries no cookie, and older browsers send no Sec-Fetch-Site.
 * A browser app on a CORS_ALLOWED_ORIGINS origin calling a CORS route
 * without our cookies passes as a REST client would (an OAuth library posts
 * a form to /auth/token): nothing it sends rides on the user's cookies, and
 * none of those routes sets one.
 * POST /oauth2/authorize is an OpenID Connect authorization request sent
 * as a form from the relying party's own page (Core §3.1.2.1): it is
 * answered exactly as the same request by GET, which any site can link to,
 * so the form is let through; what it can lead to (a code, or a consent
 * page whose answer is checked here) needs no more than the link would.
 */
export function csrfProtection(
  config: Pick<Config, "http" | "session">,
): MiddlewareHandler<AppEnv> {
  const check = csrf({
    origin: new URL(config.http.PUBLIC_URL).origin,
    secFetchSite: "same-origin",
  });
  const safeMethod = /^(GET|HEAD|OPTIONS)$/;
  return async (c, next) => {
    // What Hono's check passes anyway, without parsing the cookies again.
    if (safeMethod.test(c.req.method)) return next();
    if (c.req.path === authorizationEndpointPath) return next();
    const withCookie =
      readSessionCookie(c, config) !== undefined ||
      readPendingSignInCookie(c, config) !== undefined;
    if (!withCookie && c.get("crossOriginAllowed")) return next();
    const fromBrowser =
      withCookie ||
      c.req.header("sec-fetch-site") !== undefined ||
      c.req.header("origin") !== undefined;
    if (!fromBrowser) return next();
    let passed = false;
    try {
      return await check(c, () => {
        passed = true;
        return next();
      });
    } catch (error) {
      // Hono's refusal is a bare 403; say what a client developer needs to know.
      if (passed || !(error instanceof HTTPException) || error.status !== 403) throw error;
      throw new DomainError("csrf_failed");
    }
  };
}
