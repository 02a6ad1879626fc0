import type { DatabasePool } from "slonik";
import { ApiRoutes, operationsOf } from "../http/api-route.ts";
import { readHealth } from "../ops/health.ts";

const adminOperation = operationsOf({ tag: "admin", access: "admin" });

/** `gatehouse health --detailed` over HTTP: one report shape for the CLI and dashboards. */
export function adminHealthRoutes({ pool }: { pool: DatabasePool }) {
  const routes = new ApiRoutes();
  routes.add(
    adminOperation("GET /admin/health", "getAdminHealth", {
      summary:
        "Detailed database and auth health (the same JSON as `gatehouse health --detailed --json`)",
      responses: { 200: { description: "The health report" } },
    }),
    async (c) => c.json(await readHealth(pool, { detailed: true })),
  );
  return routes;
}
