import type { CommonQueryMethods } from "slonik";
import { listPendingUsers, listUsersPage, type UserListFilter } from "../../sql/user-listing.ts";
import { type User, userRoles, userStatuses } from "../../sql/users.ts";
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

/**
 * One page of users, newest first. Reads one row more than asked to learn
 * whether another page exists; the cursor names the last row returned.
 */
export async function pageOfUsers(
  db: CommonQueryMethods,
  filter: Omit<UserListFilter, "limit">,
  limit: number,
): Promise<{ users: User[]; next: { createdAt: string; id: string } | null }> {
  const rows = await listUsersPage(db, { ...filter, limit: limit + 1 });
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    users: page,
    next: rows.length > limit && last ? { createdAt: last.cursor_created_at, id: last.id } : null,
  };
}

/** Signed-in users waiting for approval, oldest first. */
export function pendingUsers(db: CommonQueryMethods, limit: number): Promise<readonly User[]> {
  return listPendingUsers(db, limit);
}
