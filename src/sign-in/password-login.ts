import type { Config } from "../config/index.ts";
import { DomainError } from "../errors.ts";
import {
  hashPassword,
  needsRehash,
  verifyAgainstDummy,
  verifyPassword,
} from "../password/hashing.ts";
import { isPrintableText } from "../text-input.ts";
import { countFailedAttempt } from "../users/lockout.ts";
import {
  type AttemptDeps,
  refuseUnusableAccount,
  secondsUntil,
  startSignInAttempt,
} from "./attempt.ts";
import type { FirstFactor } from "./first-factor.ts";

/** Wrong email or password: one answer for both, so it reveals nothing. */
const invalidCredentials = () => new DomainError("invalid_credentials");

export type PasswordLoginDeps = AttemptDeps & {
  config: Pick<Config, "access" | "limits" | "passwords">;
};

export type PasswordLoginInput = {
  email: string;
  password: string;
  /** The client address (clientIpOf); IPv6 addresses are counted per /64. */
  ip: string | null;
  userAgent?: string | null;
  /** Which front door was used, for audit and metrics: POST /auth/login or the token grant. */
  method?: "password" | "token";
  /** Refuse (403) an account whose email is not verified yet; sign-in allows them by default. */
  requireVerifiedEmail?: boolean;
};

/**
 * Checks an email and password exactly as every password sign-in must, and
 * returns the proved first factor for completeSignIn (src/sign-in/complete.ts),
 * which clears the failures, replaces a weak hash, grants and starts the
 * session. POST /auth/login and the `grant_type=password` token grant both
 * call this, so neither is a way around the other's limits.
 *
 * In order:
 * 1. Per-client rate limit (RATE_LIMIT_LOGIN_IP, keyed on the IPv4 address
 *    or the IPv6 /64), then per-account (RATE_LIMIT_LOGIN_ACCOUNT, keyed on
 *    the user id; an unknown address gets a counter of its own so both answer
 *    alike): throws `rate_limited` (with the seconds to wait). Counters live in
 *    PostgreSQL or Redis, shared by every replica and both login paths.
 * 2. Unknown email, or an account without a password: a dummy hash of the
 *    same cost is verified (same timing), then `invalid_credentials`.
 * 3. Wrong password: `invalid_credentials`, the same answer, also while
 *    the account is locked; the failure counts toward the lockout
 *    (src/users/lockout.ts, shared with second-factor failures).
 * 4. Right password on a locked account: `account_locked` with the seconds
 *    left; on an administrator-locked one without them; on an inactive one
 *    `account_inactive`. Only someone who knows the password learns
 *    the account's state.
 * 5. Success: the user, and a new hash when the stored one was made with a
 *    weaker cost than configured. Unverified users may sign in (to resend
 *    their mail) unless `requireVerifiedEmail`.
 *
 * Every refusal is audited as `login.failed` with a reason (unknown_email,
 * no_password, bad_password, locked, inactive, unverified) or `rate_limited`.
 * Starting a session or issuing tokens is the caller's business.
 */
export async function verifyPasswordLogin(
  deps: PasswordLoginDeps,
  input: PasswordLoginInput,
): Promise<FirstFactor> {
  const { config, pool, logger } = deps;
  const method = input.method ?? "password";
  const facts = { ip: input.ip, userAgent: input.userAgent ?? null };
  const email = input.email.trim();
  // Whatever a caller failed to validate (the token grant reads forms too)
  // must not reach the database: an address PostgreSQL cannot even store
  // answers like an unknown one.
  const plausible = email.length <= 254 && isPrintableText(email);
  const { user, refuse } = await startSignInAttempt(deps, { method, email, plausible, ...facts });

  if (!user?.password_hash) {
    await verifyAgainstDummy(input.password, config.passwords);
    throw await refuse(
      user ? "no_password" : "unknown_email",
      invalidCredentials(),
      user?.id ?? null,
    );
  }

  const lockedFor = secondsUntil(user.locked_until);
  if (!(await verifyPassword(input.password, user.password_hash))) {
    if (lockedFor === null) await countFailedAttempt(pool, { config, logger }, user.id, facts);
    throw await refuse("bad_password", invalidCredentials(), user.id);
  }

  await refuseUnusableAccount(refuse, user);
  if (input.requireVerifiedEmail && !user.email_verified) {
    throw await refuse("unverified", new DomainError("email_not_verified"), user.id);
  }

  const rehash = needsRehash(user.password_hash, config.passwords)
    ? {
        verifiedHash: user.password_hash,
        newHash: await hashPassword(input.password, config.passwords),
      }
    : null;
  return { user, method, password: { rehash } };
}
