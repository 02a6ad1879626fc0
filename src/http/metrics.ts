import type { MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { httpRequestMetrics } from "../metrics.ts";
import type { AppEnv } from "./app-env.ts";

/**
 * Counts every answered request and its latency by route *pattern*
 * (`/admin/users/:id`, never the raw path), so a scan of random URLs cannot
 * grow the number of series: anything no route matched is `unmatched`.
 */
export function httpMetrics(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const handler = matchedRoutes(c).findLast((r) => r.method !== "ALL");
      const seconds = (performance.now() - started) / 1000;
      httpRequestMetrics.record(
        c.req.method,
        handler?.path ?? "unmatched",
        String(c.res.status),
        seconds,
      );
    }
  };
}
