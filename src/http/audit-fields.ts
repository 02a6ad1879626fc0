import type { Context } from "hono";
import type { AppEnv } from "./app-env.ts";

/** The request facts every audit event carries: client ip and user agent. */
export function requestAuditFields(c: Context<AppEnv>): {
  ip: string | null;
  userAgent: string | null;
} {
  return { ip: c.get("clientIp"), userAgent: c.req.header("user-agent") ?? null };
}
