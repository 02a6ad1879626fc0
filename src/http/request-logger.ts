import type { MiddlewareHandler } from "hono";
import type { Logger } from "../logger.ts";
import type { AppEnv } from "./app-env.ts";

/**
 * One line per request. Only the path is logged: query strings carry OAuth
 * codes, states and tokens. Each request gets a child logger bound to its
 * id, except with `perRequestChild: false` (forward-auth, asked about every
 * request to every protected app): there the request id goes into the line
 * itself and a 200 costs nothing when info lines are off.
 */
export function requestLogger(
  logger: Logger,
  { perRequestChild = true }: { perRequestChild?: boolean } = {},
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    const log = perRequestChild ? logger.child({ requestId: c.get("requestId") }) : logger;
    c.set("logger", log);
    await next();
    const status = c.res.status;
    if (status < 500 && !log.isLevelEnabled("info")) return;
    const line = {
      ...(perRequestChild ? {} : { requestId: c.get("requestId") }),
      method: c.req.method,
      path: c.req.path,
      status,
      ms: Math.round((performance.now() - started) * 10) / 10,
    };
    if (status >= 500) log.error(line, "request");
    else log.info(line, "request");
  };
}
