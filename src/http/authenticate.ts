import type { MiddlewareHandler } from "hono";
import type { DatabasePool } from "slonik";
import { validateSession } from "../auth/sessions.ts";
import type { Config } from "../config.ts";
import type { AppEnv } from "./app-env.ts";
import { readSessionCookie } from "./session-cookie.ts";

/**
 * Resolves the caller from the session cookie into c.var.principal (null when
 * absent or invalid). It never refuses a request itself: routes decide with
 * the gate middleware what an anonymous or pending caller may do.
 */
export function authenticate({
  config,
  pool,
}: {
  config: Config;
  pool: DatabasePool;
}): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const secret = readSessionCookie(c, config);
    const found = secret
      ? await validateSession(pool, secret, (error) =>
          c.get("logger").warn({ err: error }, "could not record session activity"),
        )
      : null;
    c.set("principal", found ? { sessionId: found.session_id, via: "cookie", user: found } : null);
    await next();
  };
}
