import { setUserPassword } from "../../sql/user-credentials.ts";
import type { User } from "../../sql/users.ts";
import { invalidateUnusedTokensOf } from "../../sql/verification-tokens.ts";
import { recordAudit } from "../audit.ts";
import { passwordResetMail } from "../mail/templates.ts";
import { revokeAllAccess } from "../users/administration.ts";
import { afterAnswering, link, notifyPasswordChanged, sendLinkMail } from "./account-mail.ts";
import {
  type AccountDeps,
  checkPassword,
  invalidLink,
  mailRequestLimits,
  type RequestFacts,
} from "./accounts.ts";
import { redeemEmailToken } from "./email-tokens.ts";
import { hashPassword } from "./hashing.ts";

/** POST /auth/password/forgot: a reset mail when the address has an account; silent otherwise. */
export async function requestPasswordReset(
  deps: AccountDeps,
  email: string,
  facts: RequestFacts,
): Promise<void> {
  const user = await mailRequestLimits(deps, "forgot", email, facts);
  afterAnswering(deps, "password reset request", async () => {
    if (!user?.email || user.status === "deleted") {
      await recordAudit(deps.pool, deps.logger, {
        eventType: "password.reset_requested",
        result: "failure",
        failureReason: "unknown_email",
        ...facts,
      });
      return;
    }
    await sendLinkMail(
      deps,
      { ...user, email: user.email },
      {
        purpose: "password_reset",
        ttlMs: deps.config.passwords.PASSWORD_RESET_TTL,
        eventType: "password.reset_requested",
        content: (token) =>
          passwordResetMail(
            link(deps, "/auth/password/reset", token),
            deps.config.passwords.PASSWORD_RESET_TTL,
          ),
      },
      facts,
    );
  });
}

/**
 * POST /auth/password/reset: sets the password with a reset link, once.
 * Whoever holds the link may be the victim of a stolen session, so every
 * session, refresh token and bearer token of the user ends. Opening the link
 * proves the mailbox, so the address becomes verified, and a failed-login
 * lockout is lifted.
 */
export async function resetPassword(
  deps: AccountDeps,
  input: { token: string; password: string },
  facts: RequestFacts,
): Promise<User> {
  checkPassword(deps, "#/password", input.password);
  const passwordHash = await hashPassword(input.password, deps.config.passwords);
  const user = await deps.pool.transaction(async (tx) => {
    const used = await redeemEmailToken(tx, input.token, "password_reset");
    if (!used) throw invalidLink("#/token");
    const updated = await setUserPassword(tx, used.user_id, passwordHash, true);
    if (!updated) throw invalidLink("#/token");
    const revoked = await revokeAllAccess(tx, updated.id, "password_reset");
    await invalidateUnusedTokensOf(tx, updated.id, "password_reset");
    await recordAudit(tx, deps.logger, {
      eventType: "password.reset",
      result: "success",
      userId: updated.id,
      ...facts,
      context: {
        revoked_sessions: revoked.sessions,
        revoked_refresh_tokens: revoked.refreshTokens,
      },
    });
    return updated;
  });
  notifyPasswordChanged(deps, user, facts);
  return user;
}
