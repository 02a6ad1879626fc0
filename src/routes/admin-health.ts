import { Hono } from "hono";
import type { DatabasePool } from "slonik";
import type { AppEnv } from "../http/app-env.ts";
import { requireAdmin } from "../http/gate.ts";
import type { ApiRoute } from "../http/openapi.ts";
import { readHealth } from "../ops/health.ts";

/** `gatehouse health --detailed` over HTTP: one report shape for the CLI and dashboards. */
export function adminHealthRoutes({ pool }: { pool: DatabasePool }) {
  const app = new Hono<AppEnv>();
  app.get("/admin/health", requireAdmin(), async (c) =>
    c.json(await readHealth(pool, { detailed: true })),
  );
  return app;
}

export const adminHealthApi: ApiRoute[] = [
  {
    method: "get",
    path: "/admin/health",
    summary:
      "Detailed database and auth health (the same JSON as `gatehouse health --detailed --json`)",
    tag: "admin",
    access: "admin",
    responses: { 200: { description: "The health report" } },
  },
];
