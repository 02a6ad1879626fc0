import type { Context } from "hono";
import type { AppEnv } from "./app-env.ts";
import { clientIpOf } from "./client-ip.ts";

/** The request facts every audit event carries: client ip and user agent. */
export function requestAuditFields(c: Context<AppEnv>): {
  ip: string | null;
  userAgent: string | null;
} {
  return { ip: clientIpOf(c), userAgent: c.req.header("user-agent") ?? null };
}
