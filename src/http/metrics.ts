import type { MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { httpRequestDuration, httpRequests } from "../metrics.ts";
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
      const route = handler?.path ?? "unmatched";
      const method = c.req.method;
      httpRequests.inc({ method, route, status: String(c.res.status) });
      httpRequestDuration.observe({ method, route }, (performance.now() - started) / 1000);
    }
  };
}
