import { timingSafeEqual } from "node:crypto";
import type { DatabasePool } from "slonik";
import type { Config } from "../config/index.ts";
import { DomainError } from "../errors.ts";
import { ApiRoutes, operationsOf } from "../http/api-route.ts";
import { databasePoolConnections, metricsRegistry } from "../metrics.ts";

const operationsOperation = operationsOf({ tag: "operations", access: "metrics-token" });

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** GET /metrics: Prometheus text, behind `Authorization: Bearer METRICS_TOKEN` when that is set. */
export function metricsRoutes({
  config,
  pool,
}: {
  config: Pick<Config, "ops">;
  pool: DatabasePool;
}) {
  const routes = new ApiRoutes();
  routes.add(
    operationsOperation("GET /metrics", "getMetrics", {
      summary: "Prometheus metrics (text exposition format)",
      responses: {
        200: { description: "Metrics", contentType: "text/plain" },
        401: { description: "METRICS_TOKEN is set and the bearer token is missing or wrong" },
      },
    }),
    async (c) => {
      if (config.ops.METRICS_TOKEN) {
        const header = c.req.header("authorization") ?? "";
        const token = header.startsWith("Bearer ") ? header.slice(7).trim() : "";
        if (!sameSecret(token, config.ops.METRICS_TOKEN)) {
          throw new DomainError("metrics_token_required");
        }
      }
      const state = pool.state();
      databasePoolConnections.set({ state: "acquired" }, state.acquiredConnections);
      databasePoolConnections.set({ state: "idle" }, state.idleConnections);
      databasePoolConnections.set({ state: "waiting" }, state.waitingClients);
      return c.body(await metricsRegistry.metrics(), 200, {
        "content-type": metricsRegistry.contentType,
        "cache-control": "no-store",
      });
    },
  );
  return routes;
}
