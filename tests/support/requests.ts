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

/** A browser form post: urlencoded, same-origin, no redirect following. */
export function formPoster(app: Pick<TestApp, "request" | "config">) {
  return (path: string, cookie: string, fields: Record<string, string>) =>
    app.request(path, {
      method: "POST",
      redirect: "manual",
      headers: {
        cookie,
        origin: app.config.http.PUBLIC_URL,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams(fields).toString(),
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
