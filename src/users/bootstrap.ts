import { userInfo } from "node:os";
import { findUserByEmail, type User } from "../../sql/users.ts";
import { DomainError } from "../errors.ts";
import { type Actor, type AdminDeps, changeUser } from "./administration.ts";

/**
 * The actor of a command run on the server: no user id, and the operating
 * system account in the audit trail's user-agent column, so "who made the
 * first admin" still has an answer.
 */
export function commandLineActor(): Actor {
  let account = "unknown";
  try {
    account = userInfo().username;
  } catch {
    // no passwd entry (some containers): keep "unknown"
  }
  return { actorId: null, ip: null, userAgent: `gatehouse-cli (os user ${account})` };
}

/**
 * Makes the user with this email an approved administrator: before the admin
 * API can be used, someone has to be one. Idempotent: an existing approved
 * admin is returned unchanged, with no audit event. The status is left alone
 * (an inactive or locked account stays so; the caller reports it).
 */
export async function grantAdministrator(
  deps: AdminDeps,
  actor: Actor,
  email: string,
): Promise<{ user: User; changed: boolean }> {
  const user = await findUserByEmail(deps.pool, email);
  if (!user || user.status === "deleted") throw new DomainError("user_not_found");
  if (user.role === "admin" && user.is_whitelisted) return { user, changed: false };
  const updated = await changeUser(deps, actor, user.id, { role: "admin", isWhitelisted: true });
  return { user: updated, changed: true };
}
