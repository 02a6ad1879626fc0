import type { MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";
import type { AppEnv } from "./app-env.ts";

/**
 * secureHeaders() on every answer but a 200: forward-auth's 200 has no body
 * and goes to the proxy, which copies only the X-Auth-* headers onward; a
 * refusal (302, 401, 403) can reach the browser (Caddy, Traefik), so it gets
 * them.
 */
export function secureHeadersUnlessOk(): MiddlewareHandler<AppEnv> {
  const secure = secureHeaders();
  const done = async () => {};
  return async (c, next) => {
    await next();
    if (c.res.status !== 200) await secure(c, done);
  };
}
