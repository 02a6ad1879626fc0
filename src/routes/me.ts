import { Hono } from "hono";
import type { DatabasePool } from "slonik";
import { z } from "zod";
import { findUserById, type User, userRow } from "../../sql/users.ts";
import type { AppEnv } from "../http/app-env.ts";
import { requireSignedIn } from "../http/gate.ts";
import type { ApiRoute } from "../http/openapi.ts";
import { Problem } from "../http/problem.ts";

export const meResponse = userRow
  .pick({
    id: true,
    email: true,
    email_verified: true,
    username: true,
    full_name: true,
    avatar_url: true,
    role: true,
    status: true,
    is_whitelisted: true,
  })
  .extend({
    has_password: z.boolean(),
    created_at: z.iso.datetime(),
    last_login_at: z.iso.datetime().nullable(),
  });

export const meApi: ApiRoute[] = [
  {
    method: "get",
    path: "/me",
    summary: "The signed-in user, including is_whitelisted and status",
    tag: "account",
    access: "signed-in",
    responses: {
      200: { description: "The user", body: meResponse },
      401: { description: "Not signed in" },
    },
  },
];

/** What a user may see of their own record: never hashes, counters or token state. */
export function toMeResponse(user: User): z.infer<typeof meResponse> {
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
