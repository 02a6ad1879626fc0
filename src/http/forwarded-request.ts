import type { Context } from "hono";

/** The request a reverse proxy asks us about, as far as it can be known. */
export type OriginalRequest = {
  method: string;
  /** Canonical URL (lower-case host without trailing dot, clean path); null when unknown. */
  url: URL | null;
};

/**
 * The original request of a forward-auth call. Proxies describe it in
 * X-Forwarded-Method/-Proto/-Host/-Uri (Traefik, Caddy) or X-Original-URL
 * (nginx); those are believed only from a trusted proxy: from anyone else
 * they are whatever an attacker wants us to think was asked. A proxy sets its
 * own set but passes the client's copy of the other one along, so when both
 * are present and disagree, one of them is the client's: the URL is unknown.
 */
export function originalRequest(c: Context, fromTrustedProxy: boolean): OriginalRequest {
  if (!fromTrustedProxy) return { method: c.req.method, url: null };
  const method = (
    c.req.header("x-forwarded-method") ??
    c.req.header("x-original-method") ??
    c.req.method
  ).toUpperCase();
  const originalUrl = c.req.header("x-original-url");
  const fromOriginalUrl = originalUrl === undefined ? undefined : parseOriginalUrl(originalUrl);
  const host = c.req.header("x-forwarded-host");
  const uri = c.req.header("x-forwarded-uri");
  const fromForwarded =
    host === undefined && uri === undefined
      ? undefined
      : canonicalUrl(c.req.header("x-forwarded-proto"), host, uri ?? "/");
  if (fromOriginalUrl !== undefined && fromForwarded !== undefined) {
    const agree = fromOriginalUrl && fromForwarded && fromOriginalUrl.href === fromForwarded.href;
    return { method, url: agree ? fromOriginalUrl : null };
  }
  return { method, url: fromOriginalUrl ?? fromForwarded ?? null };
}

function parseOriginalUrl(value: string): URL | null {
  const match = /^(https?):\/\/([^/?#]*)(.*)$/i.exec(value);
  return match ? canonicalUrl(match[1], match[2], match[3] || "/") : null;
}

const hostPattern = /^([a-z0-9_-]+(\.[a-z0-9_-]+)*\.*|\[[0-9a-f:.]+\])(:\d{1,5})?$/;

/**
 * One spelling per URL, so no rule can be dodged by writing it differently:
 * host in lower case without trailing dots, fragment dropped (browsers never
 * send one; a raw `#` is an attempt to make two parsers disagree), repeated
 * slashes collapsed (`//evil.example/x` must not read as another host) and
 * dot segments resolved. Anything ambiguous, such as a comma-joined
 * multi-proxy header or an absolute-form URI, is unknown (null).
 */
export function canonicalUrl(
  proto: string | undefined,
  host: string | undefined,
  uri: string,
): URL | null {
  const scheme = proto?.trim().toLowerCase();
  if (scheme !== "http" && scheme !== "https") return null;
  const authority = host?.trim().toLowerCase() ?? "";
  if (!hostPattern.test(authority)) return null;
  if (!uri.startsWith("/")) return null;
  const withoutFragment = uri.split("#", 1)[0] ?? "/";
  const queryAt = withoutFragment.indexOf("?");
  const rawPath = queryAt === -1 ? withoutFragment : withoutFragment.slice(0, queryAt);
  const query = queryAt === -1 ? "" : withoutFragment.slice(queryAt);
  const path = rawPath.replace(/\\/g, "/").replace(/\/{2,}/g, "/");
  let url: URL;
  try {
    url = new URL(`${scheme}://${authority}${path}${query}`);
  } catch {
    return null;
  }
  url.hostname = url.hostname.replace(/\.+$/, "");
  url.pathname = url.pathname.replace(/\/{2,}/g, "/");
  return url;
}

/** Whether the original request was a browser asking for a page (Accept names HTML, q > 0). */
export function acceptsHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(",").some((range) => {
    const [type = "", ...params] = range.split(";").map((s) => s.trim().toLowerCase());
    if (type !== "text/html" && type !== "application/xhtml+xml") return false;
    const q = params.find((p) => p.startsWith("q="));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}
