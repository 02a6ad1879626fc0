import { UniqueIntegrityConstraintViolationError } from "slonik";
import { findUserByEmail, insertUser, type User } from "../../sql/users.ts";
import { recordAudit } from "../audit.ts";
import { fieldError } from "../errors.ts";
import { existingAccountMail } from "../mail/templates.ts";
import { signUps } from "../metrics.ts";
import { accountKey, clientNetwork, enforceRateLimit } from "../rate-limits/rate-limiter.ts";
import { digestSoon } from "../users/approval-digest.ts";
import {
  afterAnswering,
  confirmationMail,
  deliverLater,
  link,
  sendLinkMail,
} from "./account-mail.ts";
import {
  type AccountDeps,
  checkPassword,
  mailRequestLimits,
  type RequestFacts,
  rateLimits,
} from "./accounts.ts";
import { issueEmailToken } from "./email-tokens.ts";
import { hashPassword } from "./hashing.ts";

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
    signUps.inc({ method: "password" });
    digestSoon(deps);
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

/** POST /auth/email/resend: a new verification mail for an unverified account; silent otherwise. */
export async function resendVerification(
  deps: AccountDeps,
  email: string,
  facts: RequestFacts,
): Promise<void> {
  const user = await mailRequestLimits(deps, "resend", email, facts);
  afterAnswering(deps, "verification resend", async () => {
    if (!user?.email || user.email_verified || user.status === "deleted") return;
    await sendLinkMail(
      deps,
      { ...user, email: user.email },
      {
        purpose: "email_verification",
        ttlMs: deps.config.passwords.EMAIL_VERIFICATION_TTL,
        eventType: "email.verification_resent",
        content: (token) => confirmationMail(deps, token),
      },
      facts,
    );
  });
}
