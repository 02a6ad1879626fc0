import type { MiddlewareHandler } from "hono";
import { getConnInfo } from "hono/bun";
import type { AppEnv } from "./app-env.ts";

/**
 * The client's address. X-Forwarded-For is spoofable by anyone, so it is read
 * only through `trustedHops` proxies we run: with one load balancer in front,
 * the client is the last entry that balancer appended, and entries further
 * left are whatever the client chose to send.
 */
export function clientIp(trustedHops: number): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    let peer: string | null = null;
    try {
      peer = getConnInfo(c).remote.address ?? null;
    } catch {
      peer = null; // not served by Bun.serve (app.request in a unit test)
    }
    let ip = peer;
    if (trustedHops > 0) {
      const forwarded = (c.req.header("x-forwarded-for") ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      const chain = [...forwarded, ...(peer ? [peer] : [])];
      ip = chain[Math.max(0, chain.length - 1 - trustedHops)] ?? peer;
    }
    c.set("clientIp", normaliseIp(ip));
    await next();
  };
}

function normaliseIp(ip: string | null): string | null {
  if (!ip) return null;
  const unmapped = ip.startsWith("::ffff:") && ip.includes(".") ? ip.slice(7) : ip;
  // Only something PostgreSQL's inet accepts goes any further.
  return /^[0-9a-fA-F:.]{2,45}$/.test(unmapped) ? unmapped : null;
}
