import type { DomainError, ErrorCode } from "../errors.ts";
import { answers, type OAuthError } from "./error-answers.ts";
import { Problem } from "./problem.ts";

// The one place a refusal's code becomes an answer: problem+json (RFC 9457),
// its RFC 6749 `error` on the token endpoints, and the message pages show,
// each from the code's row in error-answers.ts. Codes are declared in
// src/errors.ts; docs/errors.md lists both.

/** Every code that has an answer (all of them: the type checker insists). */
export const answeredCodes = Object.keys(answers) as ErrorCode[];

/** The problem+json answer to a refusal. */
export function problemOf(error: DomainError): Problem {
  const answer = answers[error.code];
  const { detail, errors, retryAfterSeconds } = error.details;
  const headers = { ...answer.headers };
  if (retryAfterSeconds !== undefined) headers["retry-after"] = String(retryAfterSeconds);
  return new Problem(error.code, answer.status, answer.title, detail ?? answer.detail, {
    ...(answer.type ? { type: answer.type } : {}),
    ...(answer.members ? { members: answer.members } : {}),
    ...(errors ? { errors } : {}),
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
  });
}

/**
 * The same refusal on the token endpoints and /auth/revoke, which speak
 * RFC 6749 §5.2 to OAuth libraries: `error` and `error_description` (with
 * our `code` beside them); 429 stays 429 (slow_down), invalid_client is a
 * 401 (with its WWW-Authenticate), every other refusal is a 400.
 */
export function oauthErrorOf(error: DomainError): {
  status: 400 | 401 | 429;
  body: { error: OAuthError; error_description: string; code: ErrorCode };
  headers: Record<string, string>;
} {
  const problem = problemOf(error);
  const oauth = answers[error.code].oauth ?? "invalid_grant";
  return {
    status: oauth === "slow_down" ? 429 : oauth === "invalid_client" ? 401 : 400,
    body: { error: oauth, error_description: problem.detail, code: error.code },
    headers: problem.extra.headers ?? {},
  };
}

/** The sentence a page shows for a code (a flash `?error=`, a failed sign-in). */
export function errorMessage(code: ErrorCode): string {
  const answer = answers[code];
  return answer.message ?? answer.detail;
}
