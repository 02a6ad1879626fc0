import type { ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { isDatabaseUnavailable } from "../db/unavailable.ts";
import { DomainError, type ErrorCode } from "../errors.ts";
import type { AppEnv } from "./app-env.ts";
import { problemOf } from "./error-map.ts";
import { Problem, problemResponse } from "./problem.ts";

/** A pool reconnects on its next query; a few seconds covers a restart or fail-over. */
const databaseRetryAfterSeconds = 5;

/** The framework's own refusals (Hono middleware throws HTTPException). */
const frameworkCodes: Partial<Record<number, ErrorCode>> = {
  401: "not_signed_in",
  404: "not_found",
  405: "method_not_allowed",
  413: "body_too_large",
  415: "unsupported_media_type",
  429: "rate_limited",
};

export const handleNotFound: NotFoundHandler<AppEnv> = (c) =>
  problemResponse(
    c,
    problemOf(
      new DomainError("not_found", { detail: `No route for ${c.req.method} ${c.req.path}` }),
    ),
  );

export const handleError: ErrorHandler<AppEnv> = (error, c) => {
  if (error instanceof DomainError) return problemResponse(c, problemOf(error));
  if (error instanceof HTTPException && error.status < 500) {
    const code = frameworkCodes[error.status];
    const detail = error.message || undefined;
    if (code) return problemResponse(c, problemOf(new DomainError(code, { detail })));
    // Any other 4xx keeps its status under the catch-all code.
    const refused = problemOf(new DomainError("request_refused", { detail }));
    const { code: refusedCode, title, extra } = refused;
    return problemResponse(c, new Problem(refusedCode, error.status, title, refused.detail, extra));
  }
  if (isDatabaseUnavailable(error)) {
    // An outage, not a bug: clients and proxies may retry, and /readyz says the same.
    c.get("logger")?.warn(
      { reason: error.message, requestId: c.get("requestId") },
      "database unavailable",
    );
    return problemResponse(
      c,
      problemOf(
        new DomainError("database_unavailable", { retryAfterSeconds: databaseRetryAfterSeconds }),
      ),
    );
  }
  // Our fault: the details go to the log under the request id, never to the client.
  c.get("logger").error({ err: error, requestId: c.get("requestId") }, "unhandled error");
  return problemResponse(c, problemOf(new DomainError("internal_error")));
};
