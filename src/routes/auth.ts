import type { DatabasePool } from "slonik";
import { recordAudit } from "../audit.ts";
import type { Config } from "../config/index.ts";
import { ApiRoutes, operation } from "../http/api-route.ts";
import { requestAuditFields } from "../http/audit-fields.ts";
import { clearSessionCookie } from "../http/session-cookie.ts";
import type { Logger } from "../logger.ts";
import type { CredentialCache } from "../sessions/credential-cache.ts";
import { signOutSession } from "../sessions/sessions.ts";

const signOutOperation = operation({
  operationId: "signOut",
  method: "post",
  path: "/auth/logout",
  summary: "Sign out: revoke the session on the server and clear the cookie",
  tag: "auth",
  access: "signed-in",
  responses: { 204: { description: "Signed out" }, 401: { description: "Not signed in" } },
});

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

  routes.add(signOutOperation, async (c) => {
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
  });

  return routes;
}
