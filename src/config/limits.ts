import { z } from "zod";
import { rateLimitSetting } from "../rate-limits/rate-limit-setting.ts";
import { duration, integer, urlWithScheme } from "./values.ts";

/** Lockout after wrong passwords, rate limits per client and account, and where the counters live. */
export const limitsSchema = z.object({
  LOGIN_MAX_FAILURES: integer(5, { min: 1, max: 1000 }),
  LOGIN_LOCKOUT: duration("15m"),
  LOGIN_LOCKOUT_MAX: duration("24h"),
  RATE_LIMIT_LOGIN_IP: rateLimitSetting("20/5m"),
  RATE_LIMIT_LOGIN_ACCOUNT: rateLimitSetting("10/5m"),
  RATE_LIMIT_SIGNUP_IP: rateLimitSetting("10/1h"),
  RATE_LIMIT_MAIL_IP: rateLimitSetting("10/1h"),
  RATE_LIMIT_MAIL_ACCOUNT: rateLimitSetting("3/1h"),
  /** Counters in Redis, shared by every replica; unset: in PostgreSQL. */
  REDIS_URL: urlWithScheme(["redis:", "rediss:"], "redis://redis.internal:6379"),
});

export type LimitsConfig = z.infer<typeof limitsSchema>;
