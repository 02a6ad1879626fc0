import { UniqueIntegrityConstraintViolationError } from "slonik";
import { revokeRefreshTokensOfUserExceptSession } from "../../sql/refresh-tokens.ts";
import { revokeOtherSessionsOfUser } from "../../sql/sessions.ts";
import {
  findUserByEmail,
  findUserById,
  insertUser,
  setUserPassword,
  type User,
} from "../../sql/users.ts";
import { invalidateUnusedTokensOf } from "../../sql/verification-tokens.ts";
import { recordAudit } from "../audit.ts";
import type { Config } from "../config/index.ts";
import { DomainError, fieldError } from "../errors.ts";
import type { Mailer } from "../mail/mailer.ts";
import {
  existingAccountMail,
  type MailContent,
  passwordChangedMail,
  passwordResetMail,
  verificationMail,
} from "../mail/templates.ts";
import { accountKey, clientNetwork, enforceRateLimit } from "../rate-limits/rate-limiter.ts";
import type { PasswordLoginDeps } from "../sign-in/password-login.ts";
import { revokeAllAccess } from "../users/administration.ts";
import { issueEmailToken, redeemEmailToken } from "./email-tokens.ts";
import { hashPassword, verifyPassword } from "./hashing.ts";
import { passwordRefusal } from "./policy.ts";

export type AccountDeps = PasswordLoginDeps & { config: Pick<Config, "http">; mailer: Mailer };
export type RequestFacts = { ip: string | null; userAgent: string | null };

export const invalidLink = (pointer: string) =>
  fieldError(
    "link_invalid",
    pointer,
    "This link is invalid, already used or expired; ask for a new one.",
  );

export function checkPassword(
  deps: { config: Pick<Config, "passwords"> },
  pointer: string,
  password: string,
  email?: string | null,
): void {
  const refusal = passwordRefusal(password, deps.config.passwords, { email });
  if (refusal) throw fieldError("weak_password", pointer, refusal);
}

function rateLimits(deps: AccountDeps) {
  return {
    store: deps.rateLimitStore,
    pool: deps.pool,
    logger: deps.logger,
  };
}

const link = (deps: AccountDeps, path: string, token?: string) =>
  `${deps.config.http.PUBLIC_URL}${path}${token ? `?token=${token}` : ""}`;

/** The confirmation mail: one token, two links (confirm when signed in; "this was not me"). */
const confirmationMail = (deps: AccountDeps, token: string) =>
  verificationMail(
    {
      confirm: link(deps, "/auth/email/verify", token),
      notMe: link(deps, "/auth/email/not-me", token),
    },
    deps.config.passwords.EMAIL_VERIFICATION_TTL,
  );

/**
 * Sends a mail after the request is answered. A mail server that is down
 * loses no request: the change is already committed, the failure is logged
 * and audited (`mail.failed`), and the user can ask again (resend, forgot).
 */
function deliverLater(
  deps: AccountDeps,
  mail: { to: string; content: MailContent; userId: string | null; purpose: string },
  facts: RequestFacts,
): void {
  deps.mailer.send(mail.to, mail.content).catch(async (error: unknown) => {
    deps.logger.error(
      { err: error, purpose: mail.purpose, userId: mail.userId },
      "mail could not be sent",
    );
    await recordAudit(deps.pool, deps.logger, {
      eventType: "mail.failed",
      result: "failure",
      userId: mail.userId,
      failureReason: mail.purpose,
      ...facts,
      context: { error: error instanceof Error ? error.message.slice(0, 200) : "unknown" },
    });
  });
}

/** Work whose outcome must not show in the answer (nor in its timing): done after answering. */
function afterAnswering(deps: AccountDeps, label: string, work: () => Promise<void>): void {
  work().catch((error: unknown) => deps.logger.error({ err: error }, `${label} failed`));
}

/**
 * POST /auth/signup. A new address gets an unverified account and a
 * verification mail; an address that already has an account gets no new
 * account and its owner a notice mail instead. The caller sees the same
 * answer either way (no enumeration), and no session: unverified users sign
 * in through POST /auth/login.
 */
export async function signUp(
  deps: AccountDeps,
  input: { email: string; password: string; fullName?: string | null; consent?: boolean },
  facts: RequestFacts,
): Promise<void> {
  const { config, pool, logger } = deps;
  await enforceRateLimit(rateLimits(deps), {
    name: "signup_ip",
    key: clientNetwork(facts.ip),
    setting: config.limits.RATE_LIMIT_SIGNUP_IP,
    audit: facts,
  });
  if (config.access.REQUIRE_CONSENT && input.consent !== true) {
    throw fieldError("validation_failed", "#/consent", "Accept the terms to create an account.");
  }
  checkPassword(deps, "#/password", input.password, input.email);
  const existing = await findUserByEmail(pool, input.email);
  // Keyed on the address whether or not it has an account: a user-id key
  // would start a fresh count once the first sign-up created the account,
  // and the limit would fall one request later for a new address than for a
  // taken one, telling the two apart.
  await enforceRateLimit(rateLimits(deps), {
    name: "signup_account",
    key: accountKey(null, input.email),
    setting: config.limits.RATE_LIMIT_MAIL_ACCOUNT,
    audit: { ...facts, userId: existing?.id ?? null },
  });
  // Hashed in both cases, so a taken address answers as slowly as a new one.
  const passwordHash = await hashPassword(input.password, config.passwords);
  let created: { user: User; token: string } | null = null;
  try {
    created = await pool.transaction(async (tx) => {
      const user = await insertUser(tx, {
        email: input.email,
        emailVerified: false,
        fullName: input.fullName ?? null,
        passwordHash,
        consentAt: input.consent ? new Date() : null,
      });
      const token = await issueEmailToken(
        tx,
        user.id,
        "email_verification",
        config.passwords.EMAIL_VERIFICATION_TTL,
      );
      await recordAudit(tx, logger, {
        eventType: "signup",
        result: "success",
        userId: user.id,
        ...facts,
        context: { method: "password" },
      });
      return { user, token };
    });
  } catch (error) {
    if (!(error instanceof UniqueIntegrityConstraintViolationError)) throw error;
  }
  if (created) {
    deliverLater(
      deps,
      {
        to: input.email,
        content: confirmationMail(deps, created.token),
        userId: created.user.id,
        purpose: "email_verification",
      },
      facts,
    );
    return;
  }
  const owner = existing ?? (await findUserByEmail(pool, input.email));
  await recordAudit(pool, logger, {
    eventType: "signup",
    result: "failure",
    userId: owner?.id ?? null,
    failureReason: "email_taken",
    ...facts,
  });
  if (owner?.email) {
    deliverLater(
      deps,
      {
        to: owner.email,
        content: existingAccountMail(link(deps, "/"), link(deps, "/auth/password/forgot")),
        userId: owner.id,
        purpose: "existing_account_notice",
      },
      facts,
    );
  }
}

async function mailRequestLimits(
  deps: AccountDeps,
  name: string,
  email: string,
  facts: RequestFacts,
): Promise<User | null> {
  await enforceRateLimit(rateLimits(deps), {
    name: `${name}_ip`,
    key: clientNetwork(facts.ip),
    setting: deps.config.limits.RATE_LIMIT_MAIL_IP,
    audit: facts,
  });
  const user = await findUserByEmail(deps.pool, email);
  await enforceRateLimit(rateLimits(deps), {
    name: `${name}_account`,
    key: accountKey(user?.id ?? null, email),
    setting: deps.config.limits.RATE_LIMIT_MAIL_ACCOUNT,
    audit: { ...facts, userId: user?.id ?? null },
  });
  return user;
}

/** POST /auth/email/resend: a new verification mail for an unverified account; silent otherwise. */
export async function resendVerification(
  deps: AccountDeps,
  email: string,
  facts: RequestFacts,
): Promise<void> {
  const user = await mailRequestLimits(deps, "resend", email, facts);
  afterAnswering(deps, "verification resend", async () => {
    if (!user?.email || user.email_verified || user.status === "deleted") return;
    const token = await issueEmailToken(
      deps.pool,
      user.id,
      "email_verification",
      deps.config.passwords.EMAIL_VERIFICATION_TTL,
    );
    await recordAudit(deps.pool, deps.logger, {
      eventType: "email.verification_resent",
      result: "success",
      userId: user.id,
      ...facts,
    });
    deliverLater(
      deps,
      {
        to: user.email,
        content: confirmationMail(deps, token),
        userId: user.id,
        purpose: "email_verification",
      },
      facts,
    );
  });
}

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
    const token = await issueEmailToken(
      deps.pool,
      user.id,
      "password_reset",
      deps.config.passwords.PASSWORD_RESET_TTL,
    );
    await recordAudit(deps.pool, deps.logger, {
      eventType: "password.reset_requested",
      result: "success",
      userId: user.id,
      ...facts,
    });
    deliverLater(
      deps,
      {
        to: user.email,
        content: passwordResetMail(
          link(deps, "/auth/password/reset", token),
          deps.config.passwords.PASSWORD_RESET_TTL,
        ),
        userId: user.id,
        purpose: "password_reset",
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

function notifyPasswordChanged(deps: AccountDeps, user: User, facts: RequestFacts): void {
  if (!user.email) return;
  deliverLater(
    deps,
    {
      to: user.email,
      content: passwordChangedMail(link(deps, "/auth/password/forgot")),
      userId: user.id,
      purpose: "password_changed_notice",
    },
    facts,
  );
}
