import type { DatabasePool } from "slonik";
import { z } from "zod";
import type { Config } from "../config/index.ts";
import { ApiRoutes, operationsOf } from "../http/api-route.ts";
import type { Principal } from "../http/app-env.ts";
import { requestAuditFields } from "../http/audit-fields.ts";
import { revokeCallersDevice } from "../http/own-devices.ts";
import type { Logger } from "../logger.ts";
import { listDevices, revokeOtherDevices } from "../users/devices.ts";

const accountOperation = operationsOf({ tag: "account", access: "gated" });

export const deviceResponse = z
  .object({
    id: z.uuid(),
    kind: z.enum(["browser", "token"]),
    created_at: z.iso.datetime(),
    last_seen_at: z.iso.datetime(),
    expires_at: z.iso.datetime(),
    ip: z.string().nullable(),
    user_agent: z.string().nullable(),
    current: z.boolean(),
  })
  .meta({ id: "Session", description: "A device: a browser session or a token client" });

const principalOf = (c: { get: (k: "principal") => Principal | null }) =>
  c.get("principal") as Principal;

export function meSessionRoutes(deps: {
  config: Pick<Config, "http" | "session">;
  pool: DatabasePool;
  logger: Logger;
}) {
  const routes = new ApiRoutes();

  routes.add(
    accountOperation("GET /me/sessions", "listMySessions", {
      summary: "The caller's devices: live browser sessions and token clients, with a current flag",
      responses: {
        200: { description: "The devices", body: z.object({ sessions: z.array(deviceResponse) }) },
      },
    }),
    async (c) => {
      const principal = principalOf(c);
      const devices = await listDevices(deps, principal.user.user_id, principal.sessionId);
      c.header("cache-control", "no-store");
      return c.json({
        sessions: devices.map((d) => ({
          id: d.id,
          kind: d.kind,
          created_at: d.created_at.toISOString(),
          last_seen_at: d.last_seen_at.toISOString(),
          expires_at: d.expires_at.toISOString(),
          ip: d.ip,
          user_agent: d.user_agent,
          current: d.current,
        })),
      });
    },
  );

  routes.add(
    accountOperation("DELETE /me/sessions/:id", "revokeMySession", {
      summary: "Revoke one device (its refresh tokens and access tokens stop too)",
      responses: {
        204: { description: "Revoked" },
        404: { description: "No such live session of the caller" },
      },
    }),
    async (c) => {
      await revokeCallersDevice(c, deps, c.req.param("id"));
      return c.body(null, 204);
    },
  );

  routes.add(
    accountOperation("DELETE /me/sessions", "revokeMyOtherSessions", {
      summary: "Revoke every device but the current one",
      responses: {
        200: {
          description: "How many sessions were revoked",
          body: z.object({ revoked_sessions: z.number().int() }),
        },
      },
    }),
    async (c) => {
      const principal = principalOf(c);
      const revoked = await revokeOtherDevices(
        deps,
        principal.user.user_id,
        principal.sessionId,
        requestAuditFields(c),
      );
      return c.json({ revoked_sessions: revoked });
    },
  );

  return routes;
}
