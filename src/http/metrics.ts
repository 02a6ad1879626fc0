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
  // prom-client hashes the label set on every call; the bound series are
  // kept instead (as many as the series themselves).
  const counters = new Map<string, { inc: () => void }>();
  const timers = new Map<string, { observe: (seconds: number) => void }>();
  return async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const handler = matchedRoutes(c).findLast((r) => r.method !== "ALL");
      const route = handler?.path ?? "unmatched";
      const method = c.req.method;
      const status = String(c.res.status);
      const series = `${method} ${route}`;
      let counter = counters.get(`${series} ${status}`);
      if (!counter) {
        counter = httpRequests.labels({ method, route, status });
        counters.set(`${series} ${status}`, counter);
      }
      let timer = timers.get(series);
      if (!timer) {
        timer = httpRequestDuration.labels({ method, route });
        timers.set(series, timer);
      }
      counter.inc();
      timer.observe((performance.now() - started) / 1000);
    }
  };
}
