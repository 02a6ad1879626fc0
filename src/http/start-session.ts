import type { Context } from "hono";
import type { DatabasePool } from "slonik";
import { recordUserLogin } from "../../sql/users.ts";
import { recordAudit } from "../audit.ts";
import type { Config } from "../config.ts";
import type { Logger } from "../logger.ts";
import { logins, sessionsCreated } from "../metrics.ts";
import { createSession, invalidateSession } from "../sessions/sessions.ts";
import type { AppEnv } from "./app-env.ts";
import { requestAuditFields } from "./audit-fields.ts";
import { writeSessionCookie } from "./session-cookie.ts";

/**
 * Ends every successful sign-in, whatever the method: a brand-new session
 * (never the one the browser came with, so a planted cookie is never promoted
 * to a signed-in one), its cookie, last_login_at and a `login.succeeded`
 * audit event, committed together. A session the browser already had is
 * revoked: a second sign-in replaces it rather than leaving it live.
 */
export async function startBrowserSession(
  c: Context<AppEnv>,
  { config, pool, logger }: { config: Config; pool: DatabasePool; logger: Logger },
  signIn: {
    userId: string;
    /** password | github | google | oidc | ... */
    method: string;
    context?: Record<string, string | number | boolean | null>;
  },
): Promise<{ sessionId: string }> {
  const audit = requestAuditFields(c);
  // Only the cookie's own session is replaced; a bearer token's session is another client's.
  const principal = c.get("principal");
  const previous = principal?.via === "cookie" ? principal.sessionId : null;
  const { session, secret } = await pool.transaction(async (tx) => {
    if (previous) await invalidateSession(tx, previous, "replaced by a new sign-in");
    const created = await createSession(tx, {
      userId: signIn.userId,
      ttlMs: config.SESSION_TTL,
      idleTtlMs: config.SESSION_IDLE_TTL,
      ...audit,
    });
    await recordUserLogin(tx, signIn.userId);
    await recordAudit(tx, logger, {
      eventType: "login.succeeded",
      result: "success",
      userId: signIn.userId,
      ...audit,
      context: { method: signIn.method, session_id: created.session.id, ...signIn.context },
    });
    return created;
  });
  writeSessionCookie(c, config, secret);
  logins.inc({ method: signIn.method, result: "success" });
  // Here, after the commit, and nowhere else: a rolled-back session is no session.
  sessionsCreated.inc();
  return { sessionId: session.id };
}
