import type { CommonQueryMethods } from "slonik";
import { z } from "zod";
import { findUserById, type User, userRow } from "../../sql/users.ts";
import type { CredentialCache } from "../sessions/credential-cache.ts";

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
    amr: z
      .array(z.string())
      .optional()
      .describe("GET /me only: how the caller's sign-in was proved (RFC 8176: pwd, fed, otp, ...)"),
  })
  .meta({ id: "User", description: "A user as they see themselves" });

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

/**
 * GET /me's answer for a user, or null when the row is gone. With `cache`,
 * reused like the session check that precedes it: dropped whenever the user's
 * row changes (credential-cache.ts), and for at most the cache's TTL.
 */
export async function ownUserView(
  db: CommonQueryMethods,
  userId: string,
  cache?: CredentialCache,
): Promise<z.infer<typeof meResponse> | null> {
  const key = `m:${userId}`;
  const cached = cache?.get<z.infer<typeof meResponse>>(key);
  if (cached) return cached;
  const generation = cache?.generation() ?? 0;
  const user = await findUserById(db, userId);
  if (!user) return null;
  const view = toMeResponse(user);
  cache?.set(key, view, [`u:${userId}`], generation);
  return view;
}
