import type { Config } from "../config.ts";

// Where a browser may be sent after signing in. An open redirect on the
// sign-in endpoint turns a trusted link into a phishing one, so only: a path
// on our own origin, PUBLIC_URL's origin, an origin in
// ALLOWED_REDIRECT_ORIGINS, or (with COOKIE_DOMAIN) a host under that domain
// on PUBLIC_URL's scheme, which the shared cookie covers anyway. Everything
// else becomes "/". `//evil.example` and `/\evil.example` are not paths:
// browsers read both as another host.

export function safeRedirectTarget(config: Config, requested: string | undefined | null): string {
  if (!requested || requested.length > 2048) return "/";
  // Control characters and backslashes are how "relative" URLs escape their origin.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point
  if (/[\u0000-\u001f\u007f\\]/.test(requested)) return "/";
  const ours = new URL(config.PUBLIC_URL);
  if (requested.startsWith("/")) {
    if (requested.startsWith("//")) return "/";
    const resolved = new URL(requested, ours);
    return resolved.origin === ours.origin
      ? `${resolved.pathname}${resolved.search}${resolved.hash}`
      : "/";
  }
  let target: URL;
  try {
    target = new URL(requested);
  } catch {
    return "/";
  }
  if (target.protocol !== "https:" && target.protocol !== "http:") return "/";
  if (target.username || target.password) return "/";
  if (target.origin === ours.origin || config.ALLOWED_REDIRECT_ORIGINS.includes(target.origin)) {
    return target.toString();
  }
  const domain = config.COOKIE_DOMAIN?.replace(/^\./, "").toLowerCase();
  if (
    domain &&
    target.protocol === ours.protocol &&
    (target.hostname === domain || target.hostname.endsWith(`.${domain}`))
  ) {
    return target.toString();
  }
  return "/";
}
