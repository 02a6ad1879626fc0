import type { CommonQueryMethods, DatabasePool } from "slonik";
import { revokeSessionOfUser } from "../../sql/devices.ts";
import { revokeRefreshTokensOfUser } from "../../sql/refresh-tokens.ts";
import { revokeSessionsOfUser } from "../../sql/sessions.ts";
import {
  type AdministrativeChange,
  applyAdministrativeChange,
  invalidateTokensOfUser,
  lockUsableAdmins,
  lockUserById,
} from "../../sql/user-changes.ts";
import { findUserById, type User } from "../../sql/users.ts";
import { recordAudit } from "../audit.ts";
import { DomainError, fieldError, hasCode } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { sessionsRevoked } from "../metrics.ts";

export type { AdministrativeChange };

/** Who is acting, and from where: every admin action is audited with it (actorId null: the CLI). */
export type Actor = { actorId: string | null; ip: string | null; userAgent: string | null };
export type AdminDeps = { pool: DatabasePool; logger: Logger };

export function isUsableAdmin(user: User): boolean {
  return user.role === "admin" && user.status === "active" && user.is_whitelisted;
}

/**
 * Refuses (`last_admin`) when `target`, a usable admin, is about to stop
 * being one and nobody else is. The usable admins are row-locked first, so of
 * two transactions demoting the last two admins the second waits, then counts
 * afresh and is refused. Call inside a transaction.
 */
export async function guardLastAdministrator(tx: CommonQueryMethods, target: User): Promise<void> {
  if (!isUsableAdmin(target)) return;
  const admins = await lockUsableAdmins(tx);
  if (admins.includes(target.id) && admins.length <= 1) throw new DomainError("last_admin");
}

function removesAdministration(change: AdministrativeChange): boolean {
  return (
    change.role === "user" ||
    (change.status !== undefined && change.status !== "active") ||
    change.isWhitelisted === false
  );
}

/**
 * Ends every way the user is signed in: sessions and refresh-token families
 * are revoked and bearer tokens issued so far stop (tokens_valid_after).
 */
export async function revokeAllAccess(tx: CommonQueryMethods, userId: string, reason: string) {
  // Refresh tokens first: revoking a session also revokes its tokens (a
  // trigger), which would leave nothing here to count.
  const refreshTokens = await revokeRefreshTokensOfUser(tx, userId);
  const sessions = await revokeSessionsOfUser(tx, userId, reason);
  sessionsRevoked.inc({ reason }, sessions);
  await invalidateTokensOfUser(tx, userId);
  return { sessions, refreshTokens };
}

/**
 * An administrator's decision: a change, and for a denial the reason given
 * (audited, and mailed to the user by decideOnUser).
 */
export type UserDecision = AdministrativeChange & { reason?: string };

/**
 * Denying also withdraws approval (an administrator's decision, so rules do
 * not approve the user again); approving a denied user lets them in at once.
 */
function effectiveChange(before: User, decision: UserDecision): AdministrativeChange {
  const { reason: _, ...change } = decision;
  if (change.status === "denied") return { ...change, isWhitelisted: false };
  if (before.status === "denied" && change.isWhitelisted === true && change.status === undefined) {
    return { ...change, status: "active" };
  }
  return change;
}

/** The user was let in by this change (approved, or a denial reversed by approving). */
export const wasApproved = (before: User, after: User) =>
  !before.is_whitelisted && after.is_whitelisted && after.status === "active";

/**
 * An administrator's change of status, allowlisting or role. Deactivating,
 * locking or denying revokes every session and token in the same
 * transaction. Returns the user before and after the change.
 */
export async function applyUserChange(
  { pool, logger }: AdminDeps,
  actor: Actor,
  targetId: string,
  decision: UserDecision,
): Promise<{ before: User; after: User }> {
  if (decision.status === "denied" && !decision.reason) {
    throw fieldError("validation_failed", "#/reason", "Say why the user is denied.");
  }
  try {
    return await pool.transaction(async (tx) => {
      const seen = await findUserById(tx, targetId);
      if (!seen || seen.status === "deleted") throw new DomainError("user_not_found");
      if (removesAdministration(effectiveChange(seen, decision))) {
        await guardLastAdministrator(tx, seen);
      }
      // Row-locked after the administrators (the guard's lock order), so of two
      // administrators approving the same user at once one approves and one
      // finds it done: the user gets one mail.
      const before = await lockUserById(tx, targetId);
      if (!before || before.status === "deleted") throw new DomainError("user_not_found");
      const change = effectiveChange(before, decision);
      const after = await applyAdministrativeChange(tx, targetId, change, actor.actorId);
      if (!after) throw new DomainError("user_not_found");
      const revoked =
        after.status !== "active"
          ? await revokeAllAccess(tx, targetId, `admin:${after.status}`)
          : null;
      await recordAudit(tx, logger, {
        eventType: "admin.user_updated",
        result: "success",
        userId: targetId,
        ...actor,
        context: {
          ...changeContext(change),
          ...(revoked
            ? { revoked_sessions: revoked.sessions, revoked_refresh_tokens: revoked.refreshTokens }
            : {}),
        },
      });
      if (wasApproved(before, after)) {
        await recordAudit(tx, logger, {
          eventType: "user.approved",
          result: "success",
          userId: targetId,
          ...actor,
          context: { previous_status: before.status },
        });
      }
      if (change.status === "denied") {
        await recordAudit(tx, logger, {
          eventType: "user.denied",
          result: "success",
          userId: targetId,
          ...actor,
          context: { reason: decision.reason ?? "" },
        });
      }
      return { before, after };
    });
  } catch (error) {
    if (hasCode(error, "last_admin")) {
      await recordAudit(pool, logger, {
        eventType: "admin.user_updated",
        result: "failure",
        userId: targetId,
        ...actor,
        failureReason: "last administrator",
        context: changeContext(decision),
      });
    }
    throw error;
  }
}

/** applyUserChange, for callers that tell nobody (the CLI's bootstrap). */
export async function changeUser(
  deps: AdminDeps,
  actor: Actor,
  targetId: string,
  change: AdministrativeChange,
): Promise<User> {
  return (await applyUserChange(deps, actor, targetId, change)).after;
}

function changeContext(change: UserDecision): Record<string, string | boolean> {
  const context: Record<string, string | boolean> = {};
  if (change.status !== undefined) context.status = change.status;
  if (change.isWhitelisted !== undefined) context.is_whitelisted = change.isWhitelisted;
  if (change.role !== undefined) context.role = change.role;
  return context;
}

/** Signs the user out everywhere: sessions, refresh tokens and bearer tokens. */
export async function revokeUserAccess(
  { pool, logger }: AdminDeps,
  actor: Actor,
  targetId: string,
): Promise<{ sessions: number; refreshTokens: number }> {
  return pool.transaction(async (tx) => {
    const user = await findUserById(tx, targetId);
    if (!user) throw new DomainError("user_not_found");
    const revoked = await revokeAllAccess(tx, targetId, "admin:revoked");
    await recordAudit(tx, logger, {
      eventType: "admin.sessions_revoked",
      result: "success",
      userId: targetId,
      ...actor,
      context: {
        revoked_sessions: revoked.sessions,
        revoked_refresh_tokens: revoked.refreshTokens,
      },
    });
    return revoked;
  });
}

/**
 * Ends one of the user's sessions (its refresh tokens with it, by the
 * database trigger); `session_not_found` when it is not theirs or already ended.
 */
export async function revokeOneSessionOfUser(
  { pool, logger }: AdminDeps,
  actor: Actor,
  targetId: string,
  sessionId: string,
): Promise<void> {
  await pool.transaction(async (tx) => {
    if (!(await revokeSessionOfUser(tx, targetId, sessionId, "admin:revoked"))) {
      throw new DomainError("session_not_found");
    }
    await recordAudit(tx, logger, {
      eventType: "admin.sessions_revoked",
      result: "success",
      userId: targetId,
      ...actor,
      context: { session_id: sessionId, scope: "one" },
    });
  });
  sessionsRevoked.inc({ reason: "admin:revoked" });
}
