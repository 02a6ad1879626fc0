import { Hono } from "hono";
import type { DatabasePool } from "slonik";
import { findUserById, type User } from "../../sql/users.ts";
import type { AppEnv } from "../http/app-env.ts";
import { requireSignedIn } from "../http/gate.ts";
import { Problem } from "../http/problem.ts";

/** What a user may see of their own record: never hashes, counters or token state. */
export function toMeResponse(user: User) {
  return {
    id: user.id,
    email: user.email,
    email_verified: user.email_verified,
    username: user.username,
    full_name: user.full_name,
    avatar_url: user.avatar_url,
    role: user.role,
    status: user.status,
    is_whitelisted: user.is_whitelisted,
    has_password: user.password_hash !== null,
    created_at: user.created_at.toISOString(),
    last_login_at: user.last_login_at?.toISOString() ?? null,
  };
}

export function meRoutes({ pool }: { pool: DatabasePool }) {
  const app = new Hono<AppEnv>();

  // Readable by a signed-in user awaiting approval too: it is how they learn they are pending.
  app.get("/me", requireSignedIn(), async (c) => {
    const user = await findUserById(pool, c.get("principal")?.user.user_id ?? "");
    if (!user) throw new Problem(401, "Unauthorized", "Sign in first.");
    return c.json(toMeResponse(user));
  });

  return app;
}
