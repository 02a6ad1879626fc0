import type { DatabasePool } from "slonik";
import { recordAudit } from "../audit.ts";
import type { Config } from "../config/index.ts";
import { ApiRoutes, operationsOf } from "../http/api-route.ts";
import { requestAuditFields } from "../http/audit-fields.ts";
import { clearSessionCookie } from "../http/session-cookie.ts";
import type { Logger } from "../logger.ts";
import type { CredentialCache } from "../sessions/credential-cache.ts";
import { signOutSession } from "../sessions/sessions.ts";

const authOperation = operationsOf({ tag: "auth", access: "signed-in" });

export function authRoutes({
  config,
  pool,
  logger,
  credentialCache,
}: {
  config: Pick<Config, "http" | "session">;
  pool: DatabasePool;
  logger: Logger;
  credentialCache?: CredentialCache | undefined;
}) {
  const routes = new ApiRoutes();

  routes.add(
    authOperation("POST /auth/logout", "signOut", {
      summary: "Sign out: revoke the session on the server and clear the cookie",
      responses: { 204: { description: "Signed out" }, 401: { description: "Not signed in" } },
    }),
    async (c) => {
      const principal = c.get("principal");
      if (principal?.sessionId) await signOutSession(pool, principal.sessionId, credentialCache);
      clearSessionCookie(c, config);
      await recordAudit(pool, logger, {
        eventType: "logout",
        result: "success",
        userId: principal?.user.user_id,
        ...requestAuditFields(c),
      });
      return c.body(null, 204);
    },
  );

  return routes;
}
