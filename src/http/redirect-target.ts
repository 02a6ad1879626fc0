import type { HttpConfig } from "../config/index.ts";

type RedirectConfig = Pick<HttpConfig, "PUBLIC_URL" | "ALLOWED_REDIRECT_ORIGINS" | "COOKIE_DOMAIN">;

/**
 * Where we may send a browser after sign-in: our own origin, an origin in
 * ALLOWED_REDIRECT_ORIGINS, or (with COOKIE_DOMAIN) any host under that
 * domain on PUBLIC_URL's scheme, since the session cookie reaches those hosts
 * anyway. Anything else would make us an open redirector for phishing.
 */
export function isAllowedRedirect(target: URL, config: RedirectConfig): boolean {
  const own = new URL(config.PUBLIC_URL);
  if (target.origin === own.origin) return true;
  if (config.ALLOWED_REDIRECT_ORIGINS.includes(target.origin)) return true;
  const domain = config.COOKIE_DOMAIN;
  if (!domain || target.protocol !== own.protocol || target.username || target.password) {
    return false;
  }
  const host = target.hostname.replace(/\.+$/, "");
  return host === domain || host.endsWith(`.${domain}`);
}

/**
 * A `redirect_to` parameter made safe: a path on our own origin (never
 * starting with `//` or `/\`) or an allowed absolute URL, else "/".
 * `//evil.example` and `/\evil.example` are absolute URLs in disguise and
 * are judged as such.
 */
export function safeRedirectTarget(value: string | undefined, config: RedirectConfig): string {
  if (!value || value.length > 2048) return "/";
  // Control characters and backslashes are how "relative" URLs escape their origin.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return "/";
  let target: URL;
  try {
    target = new URL(value, config.PUBLIC_URL);
  } catch {
    return "/";
  }
  if (target.protocol !== "http:" && target.protocol !== "https:") return "/";
  if (!isAllowedRedirect(target, config)) return "/";
  if (target.origin !== new URL(config.PUBLIC_URL).origin) return target.href;
  // A path of ours can still begin with "//" once dot segments are resolved
  // (`/.//evil.example`, `/%2e//evil.example`): as a Location or an href that
  // is another host. One leading slash, always.
  return `/${target.pathname.replace(/^[/\\]+/, "")}${target.search}${target.hash}`;
}

/** The sign-in page, asked to come back to `original` when that is an allowed target. */
export function signInPageUrl(original: URL | null, config: RedirectConfig): string {
  const page = `${config.PUBLIC_URL}/`;
  if (!original || !isAllowedRedirect(original, config)) return page;
  return `${page}?redirect_to=${encodeURIComponent(original.href)}`;
}
