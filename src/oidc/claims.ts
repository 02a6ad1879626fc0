import type { User } from "../../sql/users.ts";

// What the granted scopes release about a user, in the ID token and at
// userinfo alike (OpenID Connect Core §5.4). An address the user never
// confirmed is only their claim: `email` is released only when verified, so
// an app that keys accounts by email cannot be handed someone else's.

export type ReleasedUser = Pick<
  User,
  "email" | "email_verified" | "full_name" | "username" | "avatar_url" | "role"
>;

export function releasedClaims(
  user: ReleasedUser,
  scopes: readonly string[],
): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  if (scopes.includes("email")) {
    if (user.email && user.email_verified) {
      claims.email = user.email;
      claims.email_verified = true;
    } else {
      claims.email_verified = false;
    }
  }
  if (scopes.includes("profile")) {
    if (user.full_name) claims.name = user.full_name;
    if (user.username) claims.preferred_username = user.username;
    if (user.avatar_url) claims.picture = user.avatar_url;
  }
  if (scopes.includes("groups")) claims.groups = [user.role];
  return claims;
}
