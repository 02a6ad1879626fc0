import type { MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";
import type { Logger } from "../logger.ts";
import type { AppEnv } from "./app-env.ts";

// The hot path's share of the general middleware (src/app.ts mounts it for
// GET /auth/verify before the rest). What it leaves out, and why:
// - a pino child logger per request: the process logger is used, the request
//   id goes into the lines themselves;
// - secure headers on a 200: forward-auth's 200 has no body and goes to the
//   proxy, which copies only the X-Auth-* headers onward; a refusal (302,
//   401, 403) can reach the browser (Caddy, Traefik), so it gets them;
// - body limit and CSRF: the route is a GET that reads no body and changes
//   nothing;
// - the client address: only a refusal's gate.denied row needs it, and the
//   auditor resolves it then (gate-denials.ts), not on every 200.

/** The request line, as requestLogger writes it, without a child logger. */
export function leanRequestLogger(logger: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    c.set("logger", logger);
    await next();
    const status = c.res.status;
    if (status < 500 && !logger.isLevelEnabled("info")) return;
    const line = {
      requestId: c.get("requestId"),
      method: c.req.method,
      path: c.req.path,
      status,
      ms: Math.round((performance.now() - started) * 10) / 10,
    };
    if (status >= 500) logger.error(line, "request");
    else logger.info(line, "request");
  };
}

/** secureHeaders() on every answer but a 200. */
export function secureHeadersUnlessOk(): MiddlewareHandler<AppEnv> {
  const secure = secureHeaders();
  const done = async () => {};
  return async (c, next) => {
    await next();
    if (c.res.status !== 200) await secure(c, done);
  };
}
