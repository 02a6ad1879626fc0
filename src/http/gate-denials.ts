import type { DatabasePool } from "slonik";
import { recordAudit } from "../audit.ts";
import type { Logger } from "../logger.ts";
import type { GateDenialAuditor } from "./app-env.ts";
import { clientIpOf } from "./client-ip.ts";

// A pending user's browser asks forward-auth for every asset of a page, so
// one refusal per user, reason and minute is audited per replica: the trail
// shows who was kept out and why without one row per image.
const quietMs = 60_000;
const maxRemembered = 10_000;

/** The audit reason for a principal the gate refuses (see gateRefusal). */
export function gateDenialReason(status: string, whitelisted: boolean): string {
  return status !== "active"
    ? `account_${status}`
    : whitelisted
      ? "not_allowed"
      : "pending_approval";
}

export function gateDenialAuditor({
  pool,
  logger,
}: {
  pool: DatabasePool;
  logger: Logger;
}): GateDenialAuditor {
  const lastAudited = new Map<string, number>();
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
      ip: clientIpOf(c),
      userAgent: c.req.header("user-agent") ?? null,
    });
  };
}
