import type { Context, MiddlewareHandler } from "hono";
import { getConnInfo } from "hono/bun";
import type { HttpConfig } from "../config/index.ts";
import type { AppEnv } from "./app-env.ts";
import { proxyTrust } from "./trusted-proxies.ts";

/**
 * The client's address. X-Forwarded-For is spoofable by anyone, so it is read
 * only through proxies we run. With TRUSTED_PROXIES, the client is the
 * rightmost address that is not one of them (entries further left are
 * whatever the client chose to send); otherwise, with TRUST_PROXY_HOPS
 * balancers in front, it is the entry the outermost of them appended.
 */
export function clientIp(
  config: Pick<HttpConfig, "TRUST_PROXY_HOPS" | "TRUSTED_PROXIES">,
): MiddlewareHandler<AppEnv> {
  const resolve = clientIpResolver(config);
  return async (c, next) => {
    // Resolved on first use, once: asking Bun for the peer address costs
    // about a tenth of a forward-auth answer, and its 200 never needs it.
    let resolved: string | null | undefined;
    c.set("clientIp", () => {
      if (resolved === undefined) resolved = resolve(c);
      return resolved;
    });
    await next();
  };
}

/** The client's address (see clientIp); null when unknown. */
export const clientIpOf = (c: Context<AppEnv>): string | null => c.get("clientIp")();

function clientIpResolver(
  config: Pick<HttpConfig, "TRUST_PROXY_HOPS" | "TRUSTED_PROXIES">,
): (c: Context<AppEnv>) => string | null {
  const trustedHops = config.TRUST_PROXY_HOPS;
  const byAddress = config.TRUSTED_PROXIES.length > 0;
  const isProxy = proxyTrust(config);
  return (c) => {
    const peer = peerAddress(c);
    let ip = peer;
    if (byAddress ? isProxy(peer) : trustedHops > 0) {
      const forwarded = (c.req.header("x-forwarded-for") ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      const chain = [...forwarded, ...(peer ? [peer] : [])];
      if (byAddress) {
        let index = chain.length - 1;
        while (index > 0 && isProxy(normaliseIp(chain[index] ?? null))) index--;
        ip = chain[index] ?? peer;
      } else {
        ip = chain[Math.max(0, chain.length - 1 - trustedHops)] ?? peer;
      }
    }
    return normaliseIp(ip);
  };
}

/** The address of whoever opened the TCP connection (a proxy, or the client itself). */
export function peerAddress(c: Parameters<MiddlewareHandler<AppEnv>>[0]): string | null {
  try {
    return getConnInfo(c).remote.address ?? null;
  } catch {
    return null; // not served by Bun.serve (app.request in a unit test)
  }
}

function normaliseIp(ip: string | null): string | null {
  if (!ip) return null;
  const unmapped = ip.startsWith("::ffff:") && ip.includes(".") ? ip.slice(7) : ip;
  // Only something PostgreSQL's inet accepts goes any further.
  return /^[0-9a-fA-F:.]{2,45}$/.test(unmapped) ? unmapped : null;
}
