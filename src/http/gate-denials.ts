import type { Context } from "hono";
import type { DatabasePool } from "slonik";
import { recordAudit } from "../audit.ts";
import type { HttpConfig } from "../config/index.ts";
import type { Logger } from "../logger.ts";
import type { AppEnv } from "./app-env.ts";
import { clientIpResolver } from "./client-ip.ts";

// A pending user's browser asks forward-auth for every asset of a page, so
// one refusal per user, reason and minute is audited per replica: the trail
// shows who was kept out and why without one row per image.
const quietMs = 60_000;
const maxRemembered = 10_000;

export type GateDenialAuditor = (c: Context<AppEnv>, reason: string) => void;

/** The audit reason for a principal the gate refuses (see gateRefusal). */
export function gateDenialReason(status: string, whitelisted: boolean): string {
  return status !== "active"
    ? `account_${status}`
    : whitelisted
      ? "not_allowed"
      : "pending_approval";
}

export function gateDenialAuditor({
  config,
  pool,
  logger,
}: {
  config: Pick<HttpConfig, "TRUST_PROXY_HOPS" | "TRUSTED_PROXIES">;
  pool: DatabasePool;
  logger: Logger;
}): GateDenialAuditor {
  const lastAudited = new Map<string, number>();
  // Forward-auth's lean chain leaves the address out of every 200: it is
  // resolved here, for the few requests that are refused.
  const clientIpOf = clientIpResolver(config);
  return (c, reason) => {
    const userId = c.get("principal")?.user.user_id ?? null;
    const key = `${userId} ${reason}`;
    const now = Date.now();
    if (now - (lastAudited.get(key) ?? 0) < quietMs) return;
    if (lastAudited.size >= maxRemembered) lastAudited.clear();
    lastAudited.set(key, now);
    // Not awaited: the refusal must not wait for the audit write.
    void recordAudit(pool, logger, {
      eventType: "gate.denied",
      result: "failure",
      userId,
      failureReason: reason,
      context: { path: c.req.path },
      ip: c.get("clientIp") === undefined ? clientIpOf(c) : c.get("clientIp"),
      userAgent: c.req.header("user-agent") ?? null,
    });
  };
}
