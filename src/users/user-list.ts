import type { CommonQueryMethods } from "slonik";
import {
  countPendingUsers,
  listPendingUsers,
  listUserLabels,
  listUsersPage,
  type PendingUser,
  type UserLabel,
  type UserListFilter,
  type UserPageRow,
} from "../../sql/user-listing.ts";
import { findUserByEmail, type User, userRoles, userStatuses } from "../../sql/users.ts";
import { readKeysetPage } from "../keyset-page.ts";
import { toMeResponse } from "./user-view.ts";

export { type PendingUser, type User, type UserLabel, userRoles, userStatuses };

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

/** Which second factors a user has, as administrators see them (never a secret). */
export type SecondFactorsView = { totp: boolean; recovery_codes_left: number; passkeys: number };

export function secondFactorsView(row: {
  totp_enabled: boolean;
  recovery_codes_left: number;
  passkeys: number;
}): SecondFactorsView {
  return {
    totp: row.totp_enabled,
    recovery_codes_left: row.recovery_codes_left,
    passkeys: row.passkeys,
  };
}

/** A user of the admin list: the admin view plus their second factors. */
export function adminUserListView(user: UserPageRow) {
  return { ...adminUserView(user), second_factors: secondFactorsView(user) };
}

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

/** Signed-in users waiting for approval, oldest first, with how they sign in and arrived. */
export function pendingUsers(
  db: CommonQueryMethods,
  limit: number,
): Promise<readonly PendingUser[]> {
  return listPendingUsers(db, limit);
}

/** How many users wait for approval. */
export function countWaitingUsers(db: CommonQueryMethods): Promise<number> {
  return countPendingUsers(db);
}

/** The users named in a list of records, by id: how a page names them. */
export async function labelsOfUsers(
  db: CommonQueryMethods,
  ids: readonly (string | null)[],
): Promise<Map<string, UserLabel>> {
  const wanted = [...new Set(ids.filter((id): id is string => id !== null))];
  return new Map((await listUserLabels(db, wanted)).map((u) => [u.id, u]));
}

/** The id of the user with this address (the audit log's filter takes either); null when none. */
export async function userIdOfEmail(db: CommonQueryMethods, email: string): Promise<string | null> {
  return (await findUserByEmail(db, email.trim().toLowerCase()))?.id ?? null;
}
