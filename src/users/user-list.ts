import type { CommonQueryMethods } from "slonik";
import { listPendingUsers, listUsersPage, type UserListFilter } from "../../sql/user-listing.ts";
import { type User, userRoles, userStatuses } from "../../sql/users.ts";
import { readKeysetPage } from "../keyset-page.ts";
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
export const pageOfUsers = (
  db: CommonQueryMethods,
  filter: Omit<UserListFilter, "limit">,
  limit: number,
) =>
  readKeysetPage(
    (n) => listUsersPage(db, { ...filter, limit: n }),
    limit,
    (u) => ({ createdAt: u.cursor_created_at, id: u.id }),
  );

/** Signed-in users waiting for approval, oldest first. */
export function pendingUsers(db: CommonQueryMethods, limit: number): Promise<readonly User[]> {
  return listPendingUsers(db, limit);
}
