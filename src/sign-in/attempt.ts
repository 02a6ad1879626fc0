import type { DatabasePool } from "slonik";
import { findUserByEmail, type User } from "../../sql/users.ts";
import type { RequestFacts } from "../audit.ts";
import type { Config } from "../config/index.ts";
import { DomainError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { RateLimitStore } from "../rate-limits/rate-limit-stores.ts";
import { accountKey, clientNetwork, enforceRateLimit } from "../rate-limits/rate-limiter.ts";
import { recordSignInFailure } from "./failures.ts";

// What every typed-in first factor (a password, an emailed code) does
// around checking its secret: the same rate limits, the same lookup, the
// same audited refusals, the same account checks once the secret proved.

export type AttemptDeps = {
  config: Pick<Config, "limits">;
  pool: DatabasePool;
  /** The process's rate-limit counters (built once by createServices). */
  rateLimitStore: RateLimitStore;
  logger: Logger;
};

/**
 * The secret was right but the account is locked: for a while after
 * failures (with the seconds left), or by an administrator (null).
 */
export const accountLocked = (retryAfterSeconds: number | null) =>
  retryAfterSeconds === null
    ? new DomainError("account_locked")
    : new DomainError("account_locked", {
        detail: "Too many failed sign-ins: this account is locked for a while.",
        retryAfterSeconds,
      });

/** Audits a refusal as `login.failed` with `reason` and returns it, to be thrown. */
export type Refuse = (
  reason: string,
  refusal: DomainError,
  userId: string | null,
) => Promise<DomainError>;

/**
 * Counts the attempt against the per-network and per-account sign-in limits
 * and finds the account behind the address: null when there is none, or
 * when the address is not `plausible` (what PostgreSQL cannot even store
 * answers like an unknown address).
 */
export async function startSignInAttempt(
  deps: AttemptDeps,
  attempt: { method: string; email: string; plausible: boolean } & RequestFacts,
): Promise<{ user: User | null; refuse: Refuse }> {
  const { pool, logger } = deps;
  const facts = { ip: attempt.ip, userAgent: attempt.userAgent };
  await enforceSignInLimit(deps, "login_ip", facts);
  const user = attempt.plausible ? await findUserByEmail(pool, attempt.email) : null;
  await enforceSignInLimit(deps, "login_account", facts, user?.id ?? null, attempt.email);
  const refuse: Refuse = async (reason, refusal, userId) => {
    await recordSignInFailure(pool, logger, {
      method: attempt.method,
      reason,
      userId,
      ...facts,
      locked: refusal.code === "account_locked",
    });
    return refusal;
  };
  return { user, refuse };
}

/**
 * One of the sign-in rate limits every typed-in secret counts against: per
 * client network (`login_ip`), or per account (`login_account`, keyed by
 * the user, or by the address when no account has it).
 */
export async function enforceSignInLimit(
  { config, pool, logger, rateLimitStore }: AttemptDeps,
  name: "login_ip" | "login_account",
  request: RequestFacts,
  userId: string | null = null,
  email = "",
): Promise<void> {
  const limits = { store: rateLimitStore, pool, logger };
  if (name === "login_ip") {
    await enforceRateLimit(limits, {
      name,
      key: clientNetwork(request.ip),
      setting: config.limits.RATE_LIMIT_LOGIN_IP,
      audit: request,
    });
    return;
  }
  await enforceRateLimit(limits, {
    name,
    key: accountKey(userId, email),
    setting: config.limits.RATE_LIMIT_LOGIN_ACCOUNT,
    audit: { ...request, userId },
  });
}

/** Once the secret proved: a locked (for a while, or by an administrator) or inactive account is refused. */
export async function refuseUnusableAccount(refuse: Refuse, user: User): Promise<void> {
  const lockedFor = secondsUntil(user.locked_until);
  if (lockedFor !== null) throw await refuse("locked", accountLocked(lockedFor), user.id);
  if (user.status === "locked") throw await refuse("locked", accountLocked(null), user.id);
  if (user.status === "denied") throw await refuse("inactive", accountDenied(), user.id);
  if (user.status !== "active") {
    throw await refuse("inactive", new DomainError("account_inactive"), user.id);
  }
}

export const deniedDetail = "An administrator denied this account.";

/** A denied account's refusal: the code of every account that may not sign in, its own words. */
export const accountDenied = () => new DomainError("account_inactive", { detail: deniedDetail });

/** Whether `error` refuses a denied account (the sign-in page says so in its own words). */
export const refusesDenied = (error: DomainError) =>
  error.code === "account_inactive" && error.details.detail === deniedDetail;

export function secondsUntil(time: Date | null): number | null {
  if (!time) return null;
  const ms = time.getTime() - Date.now();
  return ms > 0 ? Math.ceil(ms / 1000) : null;
}
