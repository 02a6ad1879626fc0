import type { TestApp } from "./app.ts";

// Requests as a same-origin browser page sends them (the CSRF check wants the
// Origin), for tests that drive the JSON API or the admin forms.

/** `send(method, path, cookie, body?)`: JSON in when there is a body; the cookie when given. */
export function jsonSender(app: Pick<TestApp, "request" | "config">) {
  return (method: string, path: string, cookie: string | null, body?: unknown) => {
    const headers: Record<string, string> = { origin: app.config.http.PUBLIC_URL };
    if (cookie) headers.cookie = cookie;
    if (body !== undefined) headers["content-type"] = "application/json";
    return app.request(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  };
}

/** A same-origin browser form post (urlencoded, redirects not followed); `headers` add to it. */
export function postForm(
  app: Pick<TestApp, "request">,
  path: string,
  /** Pairs, for a field sent more than once (checkboxes). */
  fields: Record<string, string> | [string, string][],
  headers: Record<string, string> = {},
) {
  return app.request(path, {
    method: "POST",
    redirect: "manual",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "sec-fetch-site": "same-origin",
      ...headers,
    },
    body: new URLSearchParams(fields).toString(),
  });
}

/** A browser form post in the session `cookie`, with the Origin the CSRF check wants. */
export function formPoster(app: Pick<TestApp, "request" | "config">) {
  return (path: string, cookie: string, fields: Record<string, string> | [string, string][]) =>
    postForm(app, path, fields, { cookie, origin: app.config.http.PUBLIC_URL });
}

/**
 * The same form post sent by another site's page, in the session `cookie`:
 * what a cross-site request forgery sends, for tests that it is refused.
 */
export function crossSitePoster(app: Pick<TestApp, "request">) {
  return (path: string, cookie: string, fields: Record<string, string> = {}) =>
    postForm(app, path, fields, {
      cookie,
      origin: "https://evil.example",
      "sec-fetch-site": "cross-site",
    });
}

/** A same-origin JSON API call that wants JSON back, redirects not followed. */
export function apiRequest(
  app: Pick<TestApp, "request" | "config">,
  method: string,
  path: string,
  { cookie, body }: { cookie?: string; body?: unknown } = {},
) {
  return app.request(path, {
    method: method.toUpperCase(),
    redirect: "manual",
    headers: {
      accept: "application/json",
      origin: app.config.http.PUBLIC_URL,
      "sec-fetch-site": "same-origin",
      ...(cookie ? { cookie } : {}),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? null : JSON.stringify(body),
  });
}

let ipCounter = 0;
/** A fresh client address per request (TRUST_PROXY_HOPS=1), so per-IP rate limits never meet. */
export const nextIp = () => `198.51.100.${(++ipCounter % 250) + 1}`;

/** The `name=value` pairs a response sets (expired ones left out). */
export function cookiesSet(response: Response): Record<string, string> {
  const out: Record<string, string> = {};
  for (const header of response.headers.getSetCookie()) {
    const [pair = ""] = header.split(";");
    if (/max-age=0/i.test(header)) continue;
    const eq = pair.indexOf("=");
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** A Cookie header carrying `cookies`. */
export const cookieHeader = (cookies: Record<string, string>) =>
  Object.entries(cookies)
    .map(([k, v]) => `${k}=${v}`)
    .join("; ");
