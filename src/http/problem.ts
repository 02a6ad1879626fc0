import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { isDatabaseUnavailable } from "../db/unavailable.ts";
import type { AppEnv } from "./app-env.ts";

/** One entry of RFC 9457's `errors` extension: what is wrong, and where in the body. */
export type FieldError = { pointer: string; detail: string };

/**
 * An RFC 9457 problem. Domain and route code throws these (or subclasses);
 * `handleError` turns them into application/problem+json answers.
 */
export class Problem extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly title: string,
    readonly detail?: string,
    readonly extra: { type?: string; errors?: FieldError[]; headers?: Record<string, string> } = {},
  ) {
    super(detail ?? title);
  }
}

/** A pool reconnects on its next query; a few seconds covers a restart or fail-over. */
const databaseRetryAfterSeconds = 5;

const statusTitles: Partial<Record<number, string>> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  423: "Locked",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

export function problemResponse(c: Context, problem: Problem): Response {
  const body: Record<string, unknown> = {
    type: problem.extra.type ?? "about:blank",
    title: problem.title,
    status: problem.status,
  };
  if (problem.detail) body.detail = problem.detail;
  if (problem.extra.errors) body.errors = problem.extra.errors;
  if (problem.status >= 500) body.request_id = c.get("requestId");
  return new Response(JSON.stringify(body), {
    status: problem.status,
    headers: {
      "content-type": "application/problem+json",
      "x-request-id": c.get("requestId") ?? "",
      ...problem.extra.headers,
    },
  });
}

export const handleNotFound: NotFoundHandler<AppEnv> = (c) =>
  problemResponse(c, new Problem(404, "Not Found", `No route for ${c.req.method} ${c.req.path}`));

export const handleError: ErrorHandler<AppEnv> = (error, c) => {
  if (error instanceof Problem) return problemResponse(c, error);
  if (error instanceof HTTPException && error.status < 500) {
    const title = statusTitles[error.status] ?? "Request refused";
    return problemResponse(c, new Problem(error.status, title, error.message || undefined));
  }
  if (isDatabaseUnavailable(error)) {
    // An outage, not a bug: clients and proxies may retry, and /readyz says the same.
    c.get("logger")?.warn(
      { reason: error.message, requestId: c.get("requestId") },
      "database unavailable",
    );
    return problemResponse(
      c,
      new Problem(503, "Service Unavailable", "The database is unavailable; try again shortly.", {
        headers: { "retry-after": String(databaseRetryAfterSeconds) },
      }),
    );
  }
  // Our fault: the details go to the log under the request id, never to the client.
  c.get("logger").error({ err: error, requestId: c.get("requestId") }, "unhandled error");
  return problemResponse(
    c,
    new Problem(
      500,
      "Internal Server Error",
      "Something went wrong on our side; quote the request id.",
    ),
  );
};
