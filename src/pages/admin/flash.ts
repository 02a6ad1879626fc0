import { type ErrorCode, isErrorCode } from "../../errors.ts";
import { errorMessage } from "../../http/error-map.ts";

// What the admin page says after a form post. The redirect carries a code
// (`/admin?notice=approve`, `?error=last_admin`: a refusal's own code, see
// src/errors.ts), never the words: with text taken from the query string,
// any link could make Gatehouse's own admin page tell an administrator
// whatever its author wanted ("Session expired: sign in again at
// https://evil.example"). An unknown code shows nothing.

const notices = {
  approve: "Approved: the user is let in at once and told by mail.",
  deny: "Denied: the user cannot sign in and was told the reason by mail.",
  activate: "Activated.",
  deactivate: "Deactivated: every session and token is revoked.",
  lock: "Locked: every session and token is revoked.",
  unlock: "Unlocked.",
  whitelist: "Approved: the user was told by mail.",
  unwhitelist: "Approval revoked.",
  make_admin: "Now an administrator.",
  remove_admin: "No longer an administrator.",
  revoke_sessions: "Signed out everywhere.",
  session_revoked: "Session revoked.",
  reset_mfa: "Second factors reset; the user was told by mail.",
  reauthenticated: "Confirmed: changes are open for a few minutes.",
  delete: "Account deleted.",
  rule_added: "Rule added.",
  rule_deleted: "Rule deleted.",
  webhook_removed: "Endpoint removed, with its delivery log.",
  client_removed: "Client removed: its users are signed out of it, its consents are gone.",
  webhook_test_sent: "Test event queued: it appears among the latest deliveries.",
} as const;

export type NoticeCode = keyof typeof notices;

/** `path` with the flash code(s) in its query string. */
export function withFlash(path: string, flash: { notice?: NoticeCode; error?: ErrorCode }): string {
  const params = new URLSearchParams(flash as Record<string, string>);
  return `${path}?${params}`;
}

/** The fixed messages named by `?notice=` and `?error=`, when they name one. */
export function flashMessages(query: { notice?: string; error?: string }): {
  notice?: string;
  error?: string;
} {
  const notice =
    query.notice !== undefined && Object.hasOwn(notices, query.notice)
      ? notices[query.notice as NoticeCode]
      : undefined;
  const error = isErrorCode(query.error) ? errorMessage(query.error) : undefined;
  return { ...(notice ? { notice } : {}), ...(error ? { error } : {}) };
}
