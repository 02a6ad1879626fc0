import { isIP } from "node:net";
import { z } from "zod";
import { ConfigError } from "./config-error.ts";
import type { RuntimeConfig } from "./runtime.ts";
import { httpUrl, integer, list, optionalText } from "./values.ts";

const origins = list.transform((values, ctx) => {
  const out: string[] = [];
  for (const value of values) {
    try {
      const u = new URL(value);
      if (u.protocol !== "https:" && u.protocol !== "http:") throw new Error();
      out.push(u.origin);
    } catch {
      ctx.addIssue({ code: "custom", message: `expected http(s) origins, got ${value}` });
      return z.NEVER;
    }
  }
  return out;
});

// A browser's Origin header is scheme, host and port, nothing else, and
// CORS matches it exactly: a path, a wildcard or a `null` here could only be
// a mistake, so it stops the start instead of never matching (or matching
// more than meant).
const exactOrigins = list.transform((values, ctx) => {
  const out: string[] = [];
  for (const value of values) {
    let url: URL | null = null;
    try {
      url = new URL(value);
    } catch {}
    const exact =
      url !== null &&
      (url.protocol === "https:" || url.protocol === "http:") &&
      !value.includes("*") &&
      url.username === "" &&
      url.password === "" &&
      url.pathname === "/" &&
      !value.endsWith("/") &&
      url.search === "" &&
      url.hash === "";
    if (!url || !exact) {
      ctx.addIssue({
        code: "custom",
        message: `expected exact origins such as https://app.example.com (scheme, host, optional port; no path or wildcard), got ${value}`,
      });
      return z.NEVER;
    }
    out.push(url.origin);
  }
  return out;
});

// `10.0.0.0/8,::1,192.168.1.7`: a bare address is its own /32 or /128.
const cidrList = list.transform((entries, ctx) => {
  const out: { network: string; prefix: number; family: "ipv4" | "ipv6" }[] = [];
  for (const entry of entries) {
    const [network = "", prefixText, extra] = entry.split("/");
    const version = isIP(network);
    const max = version === 4 ? 32 : 128;
    const prefix = prefixText === undefined ? max : Number(prefixText);
    if (
      version === 0 ||
      extra !== undefined ||
      !/^\d{1,3}$/.test(prefixText ?? "0") ||
      prefix > max
    ) {
      ctx.addIssue({
        code: "custom",
        message: `expected IP addresses or CIDR ranges, got ${entry}`,
      });
      return z.NEVER;
    }
    out.push({ network, prefix, family: version === 4 ? "ipv4" : "ipv6" });
  }
  return out;
});

// Stored without the leading dot (browsers ignore it) and in lower case, for host matching.
const cookieDomain = optionalText.transform((value, ctx) => {
  if (value === undefined) return undefined;
  const domain = value.toLowerCase().replace(/^\./, "");
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(domain)) {
    ctx.addIssue({ code: "custom", message: "expected a domain name such as .example.com" });
    return z.NEVER;
  }
  return domain;
});

/** Where the server listens, the address it is known by, the proxies in front, and where browsers may be sent. */
export const httpSchema = z.object({
  /** Unset: 127.0.0.1 outside production, every interface in production (see completeHttp). */
  HOST: optionalText,
  PORT: integer(3000, { min: 0, max: 65535 }),
  PUBLIC_URL: httpUrl.optional(),
  TRUST_PROXY_HOPS: integer(0, { max: 10 }),
  /** Addresses or CIDR ranges of the proxies whose X-Forwarded-* headers are believed. */
  TRUSTED_PROXIES: cidrList,
  BODY_LIMIT_BYTES: integer(64 * 1024, { min: 1024 }),
  SHUTDOWN_TIMEOUT_MS: integer(10000),
  ALLOWED_REDIRECT_ORIGINS: origins,
  /** One session cookie for every app under this domain (forward-auth), e.g. `.example.com`. */
  COOKIE_DOMAIN: cookieDomain,
  /** Browser apps on these origins may call the token, revocation, JWKS and /me routes with bearer tokens (CORS). */
  CORS_ALLOWED_ORIGINS: exactOrigins,
});

/** The section with its defaults that depend on other settings filled in. */
export type HttpConfig = z.infer<typeof httpSchema> & { PUBLIC_URL: string; HOST: string };

/** Fills in PUBLIC_URL and HOST, and checks COOKIE_DOMAIN against PUBLIC_URL (ConfigError). */
export function completeHttp(
  parsed: z.infer<typeof httpSchema>,
  runtime: RuntimeConfig,
): HttpConfig {
  const publicUrl = (parsed.PUBLIC_URL ?? `http://localhost:${parsed.PORT}`).replace(/\/+$/, "");
  const cookieDomain = parsed.COOKIE_DOMAIN;
  const publicHost = new URL(publicUrl).hostname;
  if (cookieDomain && publicHost !== cookieDomain && !publicHost.endsWith(`.${cookieDomain}`)) {
    // A browser drops a cookie whose Domain does not cover the host that set it.
    throw new ConfigError(`COOKIE_DOMAIN: must contain PUBLIC_URL's host (${publicHost})`);
  }
  // A development server (with its mail outbox of reset links) stays on this
  // machine unless asked; a production server is meant to be reached.
  const host = parsed.HOST ?? (runtime.NODE_ENV === "production" ? "0.0.0.0" : "127.0.0.1");
  return { ...parsed, PUBLIC_URL: publicUrl, HOST: host };
}
