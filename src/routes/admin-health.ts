import type { DatabasePool } from "slonik";
import { ApiRoutes, operation } from "../http/api-route.ts";
import { readHealth } from "../ops/health.ts";

/** `gatehouse health --detailed` over HTTP: one report shape for the CLI and dashboards. */
export function adminHealthRoutes({ pool }: { pool: DatabasePool }) {
  const routes = new ApiRoutes();
  routes.add(getAdminHealthOperation, async (c) =>
    c.json(await readHealth(pool, { detailed: true })),
  );
  return routes;
}

const getAdminHealthOperation = operation({
  operationId: "getAdminHealth",
  method: "get",
  path: "/admin/health",
  summary:
    "Detailed database and auth health (the same JSON as `gatehouse health --detailed --json`)",
  tag: "admin",
  access: "admin",
  responses: { 200: { description: "The health report" } },
});
