import { createHash, randomInt } from "node:crypto";
import type { User } from "../../sql/users.ts";
import {
  consumeSignInCode,
  countWrongSignInCode,
  replaceSignInCode,
} from "../../sql/verification-tokens.ts";
import { recordAudit } from "../audit.ts";
import { DomainError } from "../errors.ts";
import { signInCodeMail } from "../mail/templates.ts";
import { emailCodesSent } from "../metrics.ts";
import { afterAnswering, deliverLater, link } from "../password/account-mail.ts";
import { type AccountDeps, mailRequestLimits, type RequestFacts } from "../password/accounts.ts";
import { isPrintableText } from "../text-input.ts";
import { countFailedAttempt } from "../users/lockout.ts";
import { type AttemptDeps, refuseUnusableAccount, startSignInAttempt } from "./attempt.ts";
import type { FirstFactor } from "./first-factor.ts";

// Passwordless sign-in with a six-digit code mailed to the account's
// address: a first factor like a password (a user with a second factor
// still owes it). A code lives 10 minutes, works once, allows 5 wrong tries,
// and a new one replaces the old. Only its SHA-256 (with the user id) is
// stored: that keeps the code off a glance at the table or a backup, but a
// million candidates are quickly hashed, so the short life and the few
// tries are what protect it, as in GoTrue's email OTP.

export const signInCodeTtlMs = 10 * 60_000;
/** Wrong tries a code allows: the fifth wrong one uses it up. */
export const signInCodeMaxTries = 5;
/** Six digits (whitespace is dropped first: people copy codes with spaces). */
export const signInCodePattern = /^[0-9]{6}$/;

/** Wrong, used, expired or never sent: one answer for all, and for an unknown address. */
const invalidCode = () => new DomainError("email_code_invalid");

/** Stands in for an unknown address's user id, so its queries cost what a known one's do. */
const nobody = "00000000-0000-0000-0000-000000000000";

export const hashSignInCode = (userId: string, code: string) =>
  createHash("sha256").update(`email_sign_in:${userId}:${code}`).digest();

const newSignInCode = () => String(randomInt(0, 1_000_000)).padStart(6, "0");

/**
 * Why an account gets no code (null: it gets one). Only an account that could
 * sign in now: active, not locked, with a verified address. Unverified
 * addresses get none: signing in would hand the mailbox holder an account
 * someone else may have created with their address and a password of theirs
 * (the confirmation mail's "this was not me" link is the way to take it
 * over). An account waiting for approval does get one, as its password
 * would sign it in too: it learns it is waiting, and the gate keeps it out.
 */
function noCodeReason(user: User | null): string | null {
  if (!user?.email) return "unknown_email";
  if (user.status !== "active") return "inactive";
  if (user.locked_until && user.locked_until.getTime() > Date.now()) return "locked";
  if (!user.email_verified) return "unverified";
  return null;
}

/**
 * POST /auth/email-code. Answered the same way (202) whatever the address:
 * the rate limits of the other mail requests apply (per client network,
 * per address: RATE_LIMIT_MAIL_IP, RATE_LIMIT_MAIL_ACCOUNT), then everything
 * that depends on the account happens after the answer, so neither the
 * answer nor its timing tells an account from none. An account that can
 * sign in gets a new code (replacing its last one) by mail; the request is
 * audited `email_code.requested`, with a reason when no code was sent.
 */
export async function requestEmailCode(
  deps: AccountDeps,
  email: string,
  facts: RequestFacts,
): Promise<void> {
  const user = await mailRequestLimits(deps, "email_code", email, facts);
  afterAnswering(deps, "email sign-in code", async () => {
    const reason = noCodeReason(user);
    if (reason || !user?.email) {
      await recordAudit(deps.pool, deps.logger, {
        eventType: "email_code.requested",
        result: "failure",
        userId: user?.id ?? null,
        failureReason: reason ?? "unknown_email",
        ...facts,
      });
      return;
    }
    const code = newSignInCode();
    await replaceSignInCode(deps.pool, {
      codeHash: hashSignInCode(user.id, code),
      userId: user.id,
      expiresAt: new Date(Date.now() + signInCodeTtlMs),
    });
    await recordAudit(deps.pool, deps.logger, {
      eventType: "email_code.requested",
      result: "success",
      userId: user.id,
      ...facts,
    });
    emailCodesSent.inc();
    deliverLater(
      deps,
      {
        to: user.email,
        content: signInCodeMail(code, signInCodeTtlMs, link(deps, "/auth/email-code/verify")),
        userId: user.id,
        purpose: "email_sign_in",
      },
      facts,
    );
  });
}

/**
 * POST /auth/email-code/verify: checks an address and its code and returns
 * the proved first factor for completeSignIn. In order:
 * 1. the password sign-in's rate limits (per client network, per account:
 *    the same counters, so neither door is a way around the other's);
 * 2. the code is used up if it is the address's live code (one conditional
 *    UPDATE: of two concurrent uses exactly one gets through);
 * 3. otherwise `email_code_invalid`, the same for an unknown address; a wrong
 *    guess at a live code counts against the code (the fifth kills it) and
 *    toward the account's lockout, like a wrong password;
 * 4. a right code on a locked account `account_locked`, on an inactive one
 *    `account_inactive` (only the mailbox holder learns the account's state).
 * Every refusal is audited `login.failed` (method email_code) with a reason:
 * unknown_email, bad_code, no_code, locked, inactive.
 */
export async function verifyEmailCode(
  deps: AttemptDeps,
  input: { email: string; code: string; ip: string | null; userAgent: string | null },
): Promise<FirstFactor> {
  const { config, pool, logger } = deps;
  const method = "email_code";
  const facts = { ip: input.ip, userAgent: input.userAgent };
  const email = input.email.trim();
  const code = input.code.replace(/\s+/g, "");
  const plausible = email.length <= 254 && isPrintableText(email) && signInCodePattern.test(code);
  const { user, refuse } = await startSignInAttempt(deps, { method, email, plausible, ...facts });

  const userId = user?.id ?? nobody;
  const used = await consumeSignInCode(pool, userId, hashSignInCode(userId, code));
  if (!used) {
    const counted = await countWrongSignInCode(pool, userId, signInCodeMaxTries);
    if (!user) throw await refuse("unknown_email", invalidCode(), null);
    if (counted) await countFailedAttempt(pool, { config, logger }, user.id, facts);
    throw await refuse(counted ? "bad_code" : "no_code", invalidCode(), user.id);
  }
  if (!user) throw await refuse("unknown_email", invalidCode(), null);
  await refuseUnusableAccount(refuse, user);
  return { user, method, provedSecret: true };
}
