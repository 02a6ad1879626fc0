import { revokeRefreshTokensOfUserExceptSession } from "../../sql/refresh-tokens.ts";
import { revokeOtherSessionsOfUser } from "../../sql/sessions.ts";
import { setUserPassword } from "../../sql/user-credentials.ts";
import { findUserById, type User } from "../../sql/users.ts";
import { recordAudit } from "../audit.ts";
import { DomainError, fieldError } from "../errors.ts";
import { accountKey, enforceRateLimit } from "../rate-limits/rate-limiter.ts";
import { notifyPasswordChanged } from "./account-mail.ts";
import { type AccountDeps, checkPassword, type RequestFacts, rateLimits } from "./accounts.ts";
import { hashPassword, verifyPassword } from "./hashing.ts";

/**
 * POST /auth/password/change: needs the current password; keeps the
 * caller's session (and the refresh tokens issued from it) and ends every
 * other one. Bearer tokens issued before stop too (tokens_valid_after), so a
 * bearer caller refreshes once.
 */
export async function changePassword(
  deps: AccountDeps,
  caller: { userId: string; sessionId: string | null },
  input: { currentPassword: string; newPassword: string },
  facts: RequestFacts,
): Promise<User> {
  await enforceRateLimit(rateLimits(deps), {
    name: "password_change_account",
    key: accountKey(caller.userId, ""),
    setting: deps.config.limits.RATE_LIMIT_LOGIN_ACCOUNT,
    audit: { ...facts, userId: caller.userId },
  });
  const current = await findUserById(deps.pool, caller.userId);
  if (!current?.password_hash) {
    throw new DomainError("password_not_set");
  }
  if (!(await verifyPassword(input.currentPassword, current.password_hash))) {
    await recordAudit(deps.pool, deps.logger, {
      eventType: "password.changed",
      result: "failure",
      userId: caller.userId,
      failureReason: "bad_password",
      ...facts,
    });
    throw fieldError("validation_failed", "#/current_password", "The current password is wrong.");
  }
  checkPassword(deps, "#/new_password", input.newPassword, current.email);
  const passwordHash = await hashPassword(input.newPassword, deps.config.passwords);
  const user = await deps.pool.transaction(async (tx) => {
    const updated = await setUserPassword(tx, caller.userId, passwordHash, false);
    if (!updated) throw new DomainError("not_signed_in");
    // Refresh tokens first: revoking a session also revokes its tokens (a
    // trigger), which would leave nothing here to count.
    const refreshTokens = await revokeRefreshTokensOfUserExceptSession(
      tx,
      caller.userId,
      caller.sessionId,
    );
    const sessions = await revokeOtherSessionsOfUser(
      tx,
      caller.userId,
      caller.sessionId,
      "password_changed",
    );
    await recordAudit(tx, deps.logger, {
      eventType: "password.changed",
      result: "success",
      userId: caller.userId,
      ...facts,
      context: { revoked_sessions: sessions, revoked_refresh_tokens: refreshTokens },
    });
    return updated;
  });
  notifyPasswordChanged(deps, user, facts);
  return user;
}
