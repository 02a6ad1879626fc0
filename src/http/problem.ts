import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ErrorCode, FieldError } from "../errors.ts";

/**
 * An RFC 9457 problem with our stable `code`: what src/http/error-map.ts
 * makes of a refusal, for problemResponse (or a form page) to show.
 */
export class Problem {
  constructor(
    readonly code: ErrorCode,
    readonly status: ContentfulStatusCode,
    readonly title: string,
    readonly detail: string,
    readonly extra: {
      type?: string;
      errors?: FieldError[];
      headers?: Record<string, string>;
      /** Fixed flags of the code (`reauth_required: true`). */
      members?: Record<string, boolean>;
    } = {},
  ) {}
}

/** The application/problem+json answer; `headers` adds what only this request knows. */
export function problemResponse(
  c: Context,
  problem: Problem,
  headers: Record<string, string> = {},
): Response {
  const body: Record<string, unknown> = {
    ...problem.extra.members,
    type: problem.extra.type ?? "about:blank",
    title: problem.title,
    status: problem.status,
    detail: problem.detail,
    code: problem.code,
  };
  if (problem.extra.errors) body.errors = problem.extra.errors;
  if (problem.status >= 500) body.request_id = c.get("requestId");
  return new Response(JSON.stringify(body), {
    status: problem.status,
    headers: {
      "content-type": "application/problem+json",
      "x-request-id": c.get("requestId") ?? "",
      ...problem.extra.headers,
      ...headers,
    },
  });
}
