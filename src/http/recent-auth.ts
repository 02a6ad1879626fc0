import type { Context, MiddlewareHandler } from "hono";
import type { DatabasePool } from "slonik";
import type { Config } from "../config/index.ts";
import { DomainError } from "../errors.ts";
import { assertRecentAuth } from "../sessions/recent-auth.ts";
import type { AppEnv } from "./app-env.ts";

// The "recent auth" guard (src/sessions/recent-auth.ts) as middleware. The
// check itself is put on the context once by createApp (recentAuthChecker),
// so any route file can guard an operation without being handed the pool:
// declare it with `recentAuth: true` (ApiRoutes puts requireRecentAuth()
// behind the operation's gate; every admin write gets it without asking), or
// put requireRecentAuth() in front of a plain Hono route.

export type RecentAuthCheck = (c: Context<AppEnv>) => Promise<void>;

/** The check createApp puts on every request's context. */
export function recentAuthChecker(deps: {
  config: Pick<Config, "session">;
  pool: DatabasePool;
}): RecentAuthCheck {
  return (c) =>
    assertRecentAuth(
      deps.pool,
      c.get("principal")?.sessionId ?? null,
      deps.config.session.REAUTH_MAX_AGE,
    );
}

/**
 * Refuses (401 `reauth_required`) a caller whose session last proved who
 * they are longer ago than REAUTH_MAX_AGE. Put it behind the gate: it
 * assumes a principal. Fails closed where no check was put on the context.
 */
export function requireRecentAuth(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await assertRecentAuthOf(c);
    await next();
  };
}

/** The same check, for a handler that answers a refusal itself (the admin page's forms). */
export async function assertRecentAuthOf(c: Context<AppEnv>): Promise<void> {
  const check = c.get("recentAuth");
  if (!check) throw new DomainError("reauth_required");
  await check(c);
}

/** Whether the caller may make the guarded changes now (a page offers the step-up otherwise). */
export async function hasRecentAuth(c: Context<AppEnv>): Promise<boolean> {
  try {
    await assertRecentAuthOf(c);
    return true;
  } catch (error) {
    if (error instanceof DomainError && error.code === "reauth_required") return false;
    throw error;
  }
}
