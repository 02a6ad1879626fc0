import type { DatabasePool } from "slonik";
import { findUserByEmail, type User } from "../../sql/users.ts";
import type { RequestFacts } from "../audit.ts";
import type { Config } from "../config/index.ts";
import { fieldError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { Mailer } from "../mail/mailer.ts";
import type { RateLimitStore } from "../rate-limits/rate-limit-stores.ts";
import { accountKey, clientNetwork, enforceRateLimit } from "../rate-limits/rate-limiter.ts";
import { passwordRefusal } from "./policy.ts";

// What the password account flows share: their dependencies, the refusal of
// a field, the password policy check, and the rate limits of a mail request.
// The flows: sign-up.ts, password-reset.ts, password-change.ts, email-confirmation.ts.

export type PasswordDeps = {
  config: Pick<Config, "access" | "limits" | "passwords">;
  pool: DatabasePool;
  /** The process's rate-limit counters (built once by createServices). */
  rateLimitStore: RateLimitStore;
  logger: Logger;
};
export type AccountDeps = PasswordDeps & { config: Pick<Config, "http">; mailer: Mailer };

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

export function rateLimits(deps: AccountDeps) {
  return {
    store: deps.rateLimitStore,
    pool: deps.pool,
    logger: deps.logger,
  };
}

/**
 * The two limits of a request that sends a mail (resend, forgot): per client
 * network, then per address. Returns the address's user, if any.
 */
export async function mailRequestLimits(
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

export type { RequestFacts };
