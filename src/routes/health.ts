import type { DatabasePool } from "slonik";
import { z } from "zod";
import { DomainError } from "../errors.ts";
import { ApiRoutes, operationsOf } from "../http/api-route.ts";
import { migrationStatus } from "../ops/migration-status.ts";

const healthOperation = operationsOf({ tag: "health", access: "anyone" });

/**
 * /healthz: the process answers (no database: a load balancer must not kill
 * every replica because PostgreSQL blinked). /readyz: the database answers
 * and its schema is the one this code expects.
 */
export function healthRoutes({
  pool,
  expectedMigrations,
}: {
  pool: DatabasePool;
  expectedMigrations: readonly string[];
}) {
  const routes = new ApiRoutes();

  routes.add(
    healthOperation("GET /healthz", "getLiveness", {
      summary: "Liveness: the process answers (no database involved)",
      responses: { 200: { description: "Alive", body: z.object({ status: z.literal("ok") }) } },
    }),
    (c) => c.json({ status: "ok" }),
  );

  routes.add(
    healthOperation("GET /readyz", "getReadiness", {
      summary: "Readiness: the database answers and every migration is applied",
      responses: {
        200: {
          description: "Ready",
          body: z.object({ status: z.literal("ready"), migrations: z.number().int() }),
        },
        503: { description: "Database unreachable or migrations pending" },
      },
    }),
    async (c) => {
      let migrations: Awaited<ReturnType<typeof migrationStatus>>;
      try {
        migrations = await migrationStatus(pool, expectedMigrations);
      } catch (error) {
        c.get("logger").warn(
          { err: error, requestId: c.get("requestId") },
          "readiness: database unreachable",
        );
        throw new DomainError("database_unavailable", { detail: "The database is unreachable." });
      }
      const { applied, pending } = migrations;
      if (pending.length > 0) {
        throw new DomainError("migrations_pending", {
          detail: `${pending.length} migration(s) not applied.`,
        });
      }
      return c.json({ status: "ready", migrations: applied.length });
    },
  );

  return routes;
}
