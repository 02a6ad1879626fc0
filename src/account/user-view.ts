import { z } from "zod";
import { type User, userRow } from "../../sql/users.ts";

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
