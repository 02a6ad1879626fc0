// Every refusal Gatehouse answers has a stable, machine-readable code: the
// problem+json body carries it as `code` (and the token endpoint beside
// RFC 6749's `error`), so clients switch on the code, never on the words.
// A new refusal is declared here, once, and answered in one place:
// src/http/error-map.ts gives each code its status, title, sentence and
// headers, and pages show the same sentence. docs/errors.md lists them all
// (a test keeps the three in step). Codes are never renamed or reused.

export const errorCodes = [
  // Signing in with a password, and the account's state
  "invalid_credentials",
  "account_locked",
  "account_inactive",
  "email_not_verified",
  "rate_limited",
  "password_not_set",
  "email_code_invalid",
  // Signing in with a provider
  "provider_not_found",
  "access_denied",
  "provider_error",
  "bad_state",
  "provider_refused",
  "provider_unavailable",
  "account_conflict",
  // Credentials and access
  "not_signed_in",
  "invalid_token",
  "session_expired",
  "not_approved",
  "admin_only",
  "requirement_not_met",
  "recent_sign_in_required",
  "browser_session_required",
  "csrf_failed",
  "metrics_token_required",
  // Mail links
  "link_invalid",
  "link_of_another_account",
  "sign_in_to_confirm",
  // Token endpoint
  "refresh_token_invalid",
  "refresh_token_reused",
  "unsupported_grant_type",
  // Second factors
  "mfa_required",
  "mfa_code_invalid",
  "mfa_sign_in_expired",
  "mfa_already_enrolled",
  "mfa_not_enrolled",
  "mfa_enrolment_code_invalid",
  "mfa_proof_required",
  "mfa_enrolment_required",
  "mfa_last_factor",
  "reauth_required",
  // Passkeys
  "passkey_not_accepted",
  "passkey_unverified",
  "passkey_exists",
  "passkey_not_found",
  // Users, linked accounts, sessions, the allowlist, webhooks
  "user_not_found",
  "last_admin",
  "last_sign_in_method",
  "provider_not_linked",
  "username_taken",
  "session_not_found",
  "rule_exists",
  "rule_not_found",
  "rule_invalid",
  "rule_impact_changed",
  "webhook_not_found",
  // The OpenID provider: its clients, codes and requests
  "client_not_found",
  "invalid_client",
  "authorization_code_invalid",
  "authorization_request_invalid",
  // The request itself
  "validation_failed",
  "weak_password",
  "malformed_json",
  "malformed_form",
  "unsupported_media_type",
  "body_too_large",
  "not_found",
  "method_not_allowed",
  "request_refused",
  // Ours, not the client's
  "database_unavailable",
  "migrations_pending",
  "internal_error",
] as const;

export type ErrorCode = (typeof errorCodes)[number];

export function isErrorCode(value: string | undefined): value is ErrorCode {
  return value !== undefined && (errorCodes as readonly string[]).includes(value);
}

/** One entry of RFC 9457's `errors` extension: what is wrong, and where in the body. */
export type FieldError = { pointer: string; detail: string };

export type ErrorDetails = {
  /**
   * A sentence for the person in place of the code's usual one (which
   * account state, which provider). Shown to the client: never internals.
   */
  detail?: string;
  /** Which fields of the request are wrong. */
  errors?: FieldError[];
  /** When a retry can succeed (a rate limit, a temporary lock). */
  retryAfterSeconds?: number;
};

/**
 * A refusal: what domain code (and the HTTP layer's own checks) throw
 * instead of building an answer. It says what went wrong, never how to
 * answer it over HTTP.
 */
export class DomainError extends Error {
  override name = "DomainError";
  constructor(
    readonly code: ErrorCode,
    readonly details: ErrorDetails = {},
  ) {
    super(details.detail ?? code);
  }
}

/** `error` is a DomainError with one of `codes`. */
export function hasCode(error: unknown, ...codes: ErrorCode[]): error is DomainError {
  return error instanceof DomainError && codes.includes(error.code);
}

/** A refusal naming one field of the request. */
export function fieldError(code: ErrorCode, pointer: string, detail: string): DomainError {
  return new DomainError(code, { errors: [{ pointer, detail }] });
}
