import type { MiddlewareHandler } from "hono";
import type { Logger } from "../logger.ts";
import type { AppEnv } from "./app-env.ts";

/**
 * One line per request, with its id. Only the path is logged: query strings
 * carry OAuth codes, states and tokens. Handlers log through the same
 * process logger and name the request id themselves: a child logger bound
 * to it would cost every request a serialisation of its bindings (through
 * the redaction), logged or not, and most requests log nothing.
 */
export function requestLogger(logger: Logger): MiddlewareHandler<AppEnv> {
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
