import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ErrorCode } from "../errors.ts";

// The one table of what each refusal's code answers: status, title, usual
// sentence, problem type and headers, the message pages show, and the RFC
// 6749 `error` on the token endpoints. error-map.ts builds the answers from
// it; docs/errors.md lists the same.

export type OAuthError =
  | "invalid_request"
  | "invalid_grant"
  | "invalid_client"
  | "unsupported_grant_type"
  | "slow_down";

type Answer = {
  status: ContentfulStatusCode;
  title: string;
  /** The usual sentence; a refusal may bring its own (DomainError details). */
  detail: string;
  /** The RFC 9457 `type` URI; about:blank when a code needs no page of its own. */
  type?: string;
  headers?: Record<string, string>;
  /** What a page shows for this code, when it differs from `detail`. */
  message?: string;
  /** The token endpoints' RFC 6749 §5.2 error; invalid_grant by default. */
  oauth?: OAuthError;
  /** Fixed members the problem body carries beside `code`, for clients that test a flag. */
  members?: Record<string, boolean>;
};

/** The standard reason phrases: the title of every answer that needs no title of its own. */
const reasonPhrases = {
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
} as const;

/** An answer titled with its status's reason phrase. */
const status = (
  code: keyof typeof reasonPhrases,
  detail: string,
  more: Omit<Answer, "status" | "title" | "detail"> = {},
): Answer => ({ status: code, title: reasonPhrases[code], detail, ...more });

const urn = (name: string) => `urn:gatehouse:problem:${name}`;
const bearer = { "www-authenticate": 'Bearer realm="gatehouse"' };
const invalidRequest = { status: 400, title: "Invalid request", type: urn("validation") } as const;
/** A refused grant: RFC 6749 §5.2 invalid_grant, the token endpoints' default. */
const invalidGrant = (detail: string): Answer => ({ status: 400, title: "Invalid grant", detail });
const fieldsInvalid = "Some fields are missing or invalid.";

/** A provider sign-in's failure: the sign-in page shows its title and sentence together. */
const signInFailure = (status: ContentfulStatusCode, title: string, detail: string): Answer => ({
  status,
  title,
  detail,
  message: `${title}: ${detail}`,
});

export const answers: Record<ErrorCode, Answer> = {
  invalid_credentials: status(401, "The email or password is wrong.", {
    type: urn("invalid-credentials"),
  }),
  account_locked: status(423, "This account is locked; contact an administrator.", {
    type: urn("account-locked"),
  }),
  account_inactive: status(403, "This account is inactive.", {
    type: urn("account-inactive"),
    message: "Account not active: This account has been deactivated or locked by an administrator.",
  }),
  email_not_verified: status(403, "Confirm your email address first.", {
    type: urn("email-not-verified"),
  }),
  rate_limited: status(429, "Too many attempts; try again later.", {
    type: urn("rate-limited"),
    oauth: "slow_down",
  }),
  password_not_set: status(
    409,
    "This account has no password yet: use “forgot password” to set one.",
  ),
  email_code_invalid: status(401, "That code is wrong, used or expired. Ask for a new one.", {
    type: urn("email-code-invalid"),
  }),

  provider_not_found: status(404, "No sign-in provider by that name is enabled."),
  access_denied: signInFailure(
    401,
    "Sign-in cancelled",
    "Consent was refused at the provider; nothing was changed.",
  ),
  provider_error: signInFailure(
    502,
    "Provider error",
    "The provider reported an error instead of signing you in.",
  ),
  bad_state: signInFailure(
    400,
    "Sign-in expired or forged",
    "This sign-in was not started from this browser, was already used, or took too long. Start again.",
  ),
  provider_refused: signInFailure(
    400,
    "Sign-in refused by the provider",
    "The provider did not accept this sign-in (the code may have been used already).",
  ),
  provider_unavailable: signInFailure(
    502,
    "Provider unavailable",
    "The provider's answer could not be used. Try again later.",
  ),
  account_conflict: signInFailure(
    409,
    "Account already linked",
    "The account with this email already signs in with a different identity at this provider.",
  ),

  not_signed_in: status(401, "Sign in first.", { headers: bearer }),
  invalid_token: status(401, "Sign in first.", {
    // RFC 6750 §3.1: tell a client whose token was refused that it was the token.
    headers: { "www-authenticate": 'Bearer realm="gatehouse", error="invalid_token"' },
  }),
  session_expired: status(401, "Sign in first.", { headers: bearer }),
  not_approved: status(403, "Your account is waiting for an administrator's approval.", {
    type: urn("not-approved"),
  }),
  admin_only: status(403, "Administrators only."),
  requirement_not_met: status(403, "This app needs a role or group this account does not have.", {
    type: urn("requirement-not-met"),
  }),
  recent_sign_in_required: status(
    403,
    "Deleting your account needs a fresh sign-in: sign out, sign in again, then retry.",
    { type: urn("reauthentication-required") },
  ),
  browser_session_required: status(403, "Only a browser session can be exchanged for tokens."),
  csrf_failed: status(
    403,
    "A browser request that changes something must come from this site's own pages; its Origin or Sec-Fetch-Site header says it does not.",
  ),
  metrics_token_required: status(401, "Metrics need the metrics bearer token.", {
    headers: { "www-authenticate": 'Bearer realm="metrics"' },
  }),

  link_invalid: {
    ...invalidRequest,
    detail: fieldsInvalid,
    message: "This link is invalid, already used or expired; ask for a new one.",
  },
  link_of_another_account: status(
    403,
    "This link confirms the address of another account: sign out, and sign in with the account it was sent for.",
    { type: urn("link-of-another-account") },
  ),
  sign_in_to_confirm: status(401, "Sign in with this account's password first, then confirm.", {
    type: urn("sign-in-to-confirm"),
    headers: bearer,
  }),

  refresh_token_invalid: invalidGrant("The refresh token is invalid, expired or revoked."),
  refresh_token_reused: invalidGrant("The refresh token is invalid, expired or revoked."),
  unsupported_grant_type: {
    status: 400,
    title: "Unsupported grant type",
    detail:
      "grant_type must be password, refresh_token or urn:gatehouse:params:oauth:grant-type:mfa.",
    oauth: "unsupported_grant_type",
  },

  mfa_required: status(
    403,
    "A second factor is required: finish at POST /auth/mfa, or with the mfa grant and mfa_token.",
    { type: urn("mfa-required") },
  ),
  mfa_code_invalid: status(401, "That code is wrong or was used already.", {
    type: urn("mfa-code-invalid"),
  }),
  mfa_sign_in_expired: status(401, "This sign-in has expired or is finished; sign in again.", {
    type: urn("mfa-sign-in-expired"),
  }),
  mfa_already_enrolled: status(
    409,
    "An authenticator is already on; turn it off first to replace it.",
  ),
  mfa_not_enrolled: status(
    409,
    "No authenticator enrolment to confirm: start one first (POST /me/mfa/totp).",
  ),
  mfa_enrolment_code_invalid: status(422, "That code is not the authenticator's current one."),
  mfa_proof_required: status(
    403,
    "Give a current code from your authenticator, or an unused recovery code.",
  ),
  mfa_enrolment_required: status(
    403,
    "This account must set up a second factor before signing in: POST /auth/mfa/totp, then POST /auth/mfa/totp/confirm.",
    { type: urn("mfa-enrolment-required") },
  ),
  mfa_last_factor: status(
    409,
    "This account must keep a second factor: enrol another one before removing this one.",
  ),
  reauth_required: status(
    401,
    "This change needs a recent sign-in: confirm it is you (POST /auth/reauth with your password or a second factor), then retry.",
    {
      type: urn("reauthentication-required"),
      message:
        "This change needs a recent sign-in: confirm it is you (or sign out and sign in again), then retry.",
      members: { reauth_required: true },
    },
  ),

  passkey_not_accepted: status(
    401,
    "That passkey could not sign you in: try again, or sign in another way.",
    { type: urn("passkey-not-accepted") },
  ),
  passkey_unverified: status(
    422,
    "The authenticator's answer could not be verified (it must unlock the passkey with a PIN or biometric): start again.",
  ),
  passkey_exists: status(409, "This passkey is registered already."),
  passkey_not_found: status(404, "No such passkey."),

  user_not_found: status(404, "No such user."),
  last_admin: status(409, "This is the last administrator: promote someone else first.", {
    type: urn("last-admin"),
  }),
  last_sign_in_method: status(
    409,
    "This is your only way to sign in: set a password or link another provider first.",
    { type: urn("last-sign-in-method") },
  ),
  provider_not_linked: status(404, "No such provider is linked."),
  username_taken: status(409, "That username is taken."),
  session_not_found: status(404, "No such session."),
  rule_exists: status(409, "That allowlist rule already exists."),
  rule_not_found: status(404, "No such allowlist rule."),
  rule_impact_changed: status(
    409,
    "Deleting the rule would now take access from a different number of users than expected: look at its impact again.",
  ),
  rule_invalid: {
    ...invalidRequest,
    detail:
      "Rule not added: the value does not fit its kind (an address such as ann@example.com, a domain such as example.com, a GitHub organisation, or organisation/team-slug).",
  },
  webhook_not_found: status(404, "No such webhook endpoint."),

  client_not_found: status(404, "No such client."),
  invalid_client: status(401, "Client authentication failed.", {
    headers: { "www-authenticate": 'Basic realm="gatehouse"' },
    oauth: "invalid_client",
  }),
  authorization_code_invalid: invalidGrant(
    "The authorization code is invalid, expired or already used.",
  ),
  authorization_request_invalid: {
    ...invalidRequest,
    detail:
      "The application sent an invalid sign-in request (an unknown client or an unregistered redirect URI). Go back to the application and try again, or tell its administrator.",
    oauth: "invalid_request",
  },

  validation_failed: { ...invalidRequest, detail: fieldsInvalid, oauth: "invalid_request" },
  weak_password: { ...invalidRequest, detail: fieldsInvalid, oauth: "invalid_request" },
  malformed_json: {
    status: 400,
    title: "Malformed JSON",
    detail: "The request body is not valid JSON.",
    oauth: "invalid_request",
  },
  malformed_form: {
    status: 400,
    title: "Malformed form",
    detail: "The request body is not a valid form.",
    oauth: "invalid_request",
  },
  unsupported_media_type: status(415, "Send application/json (or a urlencoded form).", {
    oauth: "invalid_request",
  }),
  body_too_large: status(413, "The request body is too large.", {
    oauth: "invalid_request",
  }),
  not_found: status(404, "No such route."),
  method_not_allowed: status(405, "This route does not take that method."),
  request_refused: status(400, "The request was refused."),

  database_unavailable: status(503, "The database is unavailable; try again shortly."),
  migrations_pending: status(503, "Some migrations are not applied."),
  internal_error: status(500, "Something went wrong on our side; quote the request id."),
};
