import {
  LastAdministrator,
  type Refusal,
  RuleExists,
  RuleNotFound,
  UserNotFound,
} from "../../users/refusals.ts";

// What the admin page says after a form post. The redirect carries a code
// (`/admin?notice=approve`, `?error=last_admin`), never the words: with text
// taken from the query string, any link could make Gatehouse's own admin
// page tell an administrator whatever its author wanted ("Session expired:
// sign in again at https://evil.example"). An unknown code shows nothing.

const notices = {
  approve: "Approved: the user is let in at once.",
  deny: "Denied: the account is deactivated.",
  activate: "Activated.",
  deactivate: "Deactivated: every session and token is revoked.",
  lock: "Locked: every session and token is revoked.",
  unlock: "Unlocked.",
  whitelist: "Approved.",
  unwhitelist: "Approval revoked.",
  make_admin: "Now an administrator.",
  remove_admin: "No longer an administrator.",
  revoke_sessions: "Signed out everywhere.",
  delete: "Account deleted.",
  rule_added: "Rule added.",
  rule_deleted: "Rule deleted.",
} as const;

const errors = {
  user_not_found: new UserNotFound().message,
  last_admin: new LastAdministrator().message,
  rule_exists: new RuleExists().message,
  rule_not_found: new RuleNotFound().message,
  rule_invalid:
    "Rule not added: the value does not fit its kind (an address such as ann@example.com, a domain such as example.com, a GitHub organisation, or organisation/team-slug).",
  refused: "That change was refused.",
} as const;

export type NoticeCode = keyof typeof notices;
export type ErrorCode = keyof typeof errors;

/** The code of a refusal the admin forms can meet; any other is plainly "refused". */
export function errorCodeOf(refusal: Refusal): ErrorCode {
  if (refusal instanceof UserNotFound) return "user_not_found";
  if (refusal instanceof LastAdministrator) return "last_admin";
  if (refusal instanceof RuleExists) return "rule_exists";
  if (refusal instanceof RuleNotFound) return "rule_not_found";
  return "refused";
}

/** `path` with the flash code(s) in its query string. */
export function withFlash(path: string, flash: { notice?: NoticeCode; error?: ErrorCode }): string {
  const params = new URLSearchParams(flash as Record<string, string>);
  return `${path}?${params}`;
}

const known = <T extends object>(table: T, code: string | undefined): T[keyof T] | undefined =>
  code !== undefined && Object.hasOwn(table, code) ? table[code as keyof T] : undefined;

/** The fixed messages named by `?notice=` and `?error=`, when they name one. */
export function flashMessages(query: { notice?: string; error?: string }): {
  notice?: string;
  error?: string;
} {
  const notice = known(notices, query.notice);
  const error = known(errors, query.error);
  return { ...(notice ? { notice } : {}), ...(error ? { error } : {}) };
}
