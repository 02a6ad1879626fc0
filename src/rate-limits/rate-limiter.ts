import { createHash } from "node:crypto";
import type { CommonQueryMethods } from "slonik";
import { recordAudit } from "../audit.ts";
import { DomainError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { rateLimited } from "../metrics.ts";
import type { RateLimitSetting } from "./rate-limit-setting.ts";
import type { RateLimitStore } from "./rate-limit-stores.ts";

/**
 * The part of a client address that one party controls. An IPv6 client
 * usually owns a whole /64 and can rotate through it freely, so per-address
 * counters would never fill; IPv4 addresses count one by one.
 */
export function clientNetwork(ip: string | null): string {
  if (!ip) return "unknown";
  if (!ip.includes(":")) return ip;
  const [head = "", tail = ""] = ip.toLowerCase().split("::", 2);
  const headGroups = head ? head.split(":") : [];
  const tailGroups = ip.includes("::") ? (tail ? tail.split(":") : []) : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array(Math.max(0, missing)).fill("0"), ...tailGroups];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

/**
 * Account counters are keyed on the user id, so every spelling of one
 * account (case, another login path) shares them. An address with no account
 * still gets a counter of its own, keyed on a hash of the normalised address,
 * so a limit reached answers the same whether the account exists or not.
 */
export function accountKey(userId: string | null, email: string): string {
  if (userId) return `user:${userId}`;
  return `email:${createHash("sha256").update(email.trim().toLowerCase()).digest("base64url")}`;
}

export type RateLimitDeps = { store: RateLimitStore; pool: CommonQueryMethods; logger: Logger };

/**
 * Counts one request against `name:key` and refuses it with 429 once the
 * window's limit is passed (`rate_limited`, with the seconds until it resets). Only the first refusal of a window is audited, so
 * a flood of refused requests writes one audit row, not one each.
 */
export async function enforceRateLimit(
  { store, pool, logger }: RateLimitDeps,
  check: {
    name: string;
    key: string;
    setting: RateLimitSetting;
    audit: { userId?: string | null; ip: string | null; userAgent: string | null };
  },
): Promise<void> {
  const { hits, resetsAt } = await store.hit(`${check.name}:${check.key}`, check.setting.windowMs);
  if (hits <= check.setting.limit) return;
  rateLimited.inc({ limit: check.name });
  if (hits === check.setting.limit + 1) {
    await recordAudit(pool, logger, {
      eventType: "rate_limited",
      result: "failure",
      userId: check.audit.userId ?? null,
      ip: check.audit.ip,
      userAgent: check.audit.userAgent,
      failureReason: check.name,
    });
  }
  throw new DomainError("rate_limited", {
    retryAfterSeconds: Math.max(1, Math.ceil((resetsAt.getTime() - Date.now()) / 1000)),
  });
}
