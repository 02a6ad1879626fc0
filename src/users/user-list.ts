import type { CommonQueryMethods } from "slonik";
import { listPendingUsers, listUsersPage, type UserListFilter } from "../../sql/user-listing.ts";
import { type User, userRoles, userStatuses } from "../../sql/users.ts";
import { keysetPage } from "../keyset-page.ts";
import { toMeResponse } from "./user-view.ts";

export { type User, userRoles, userStatuses };

/** What an administrator sees of a user: the /me view plus lockout state, never the hash. */
export function adminUserView(user: User) {
  return {
    ...toMeResponse(user),
    failed_login_attempts: user.failed_login_attempts,
    locked_until: user.locked_until?.toISOString() ?? null,
    updated_at: user.updated_at.toISOString(),
  };
}
export type AdminUserView = ReturnType<typeof adminUserView>;

/** One page of users, newest first. */
export async function pageOfUsers(
  db: CommonQueryMethods,
  filter: Omit<UserListFilter, "limit">,
  limit: number,
): Promise<{ users: User[]; next: { createdAt: string; id: string } | null }> {
  const rows = await listUsersPage(db, { ...filter, limit: limit + 1 });
  const { page, next } = keysetPage(rows, limit, (u) => ({
    createdAt: u.cursor_created_at,
    id: u.id,
  }));
  return { users: page, next };
}

/** Signed-in users waiting for approval, oldest first. */
export function pendingUsers(db: CommonQueryMethods, limit: number): Promise<readonly User[]> {
  return listPendingUsers(db, limit);
}
