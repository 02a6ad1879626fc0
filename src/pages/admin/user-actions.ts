import { z } from "zod";
import { printableText } from "../../text-input.ts";
import type { AdministrativeChange } from "../../users/administration.ts";

// The buttons of the admin page: each posts one action about a user, which
// is an administrative change, signing the user out everywhere, resetting
// their second factors, or deletion.

export const formActions = {
  approve: { isWhitelisted: true },
  deny: { status: "denied" },
  activate: { status: "active" },
  deactivate: { status: "inactive" },
  lock: { status: "locked" },
  unlock: { status: "active" },
  whitelist: { isWhitelisted: true },
  unwhitelist: { isWhitelisted: false },
  make_admin: { role: "admin" },
  remove_admin: { role: "user" },
  revoke_sessions: null,
  reset_mfa: null,
  delete: null,
} satisfies Record<string, AdministrativeChange | null>;
export type FormAction = keyof typeof formActions;

/**
 * The actions a second step confirms: each ends something the user cannot get
 * back by themselves. The form posts them only with `confirmed=yes`, which
 * only the confirmation page sends; without it nothing is done and the
 * administrator is shown that page.
 */
export const confirmedActions = {
  delete: {
    button: "Delete account",
    question: "Delete the account of",
    consequence:
      "Their personal data is erased, every session and token ends, and they cannot sign in again. This cannot be undone.",
  },
  deactivate: {
    button: "Deactivate",
    question: "Deactivate",
    consequence:
      "They are signed out everywhere and cannot sign in until an administrator activates them again.",
  },
  revoke_sessions: {
    button: "Sign out everywhere",
    question: "Sign out everywhere",
    consequence:
      "Every session and token of theirs ends at once. They can sign in again if their account allows it.",
  },
  reset_mfa: {
    button: "Reset second factors",
    question: "Reset the second factors of",
    consequence:
      "Their authenticator app, recovery codes and passkeys are removed, and they are told by mail. They sign in with their first factor alone until they set up a new one.",
  },
} as const satisfies Partial<
  Record<FormAction, { button: string; question: string; consequence: string }>
>;
export type ConfirmedAction = keyof typeof confirmedActions;

export const isConfirmedAction = (action: string): action is ConfirmedAction =>
  Object.hasOwn(confirmedActions, action);

export const userActionForm = z.object({
  action: z.enum(Object.keys(formActions) as [FormAction, ...FormAction[]]),
  // Only our own pages: a crafted `back` must not turn this into an open redirect.
  back: z
    .string()
    .regex(/^\/admin(\/[A-Za-z0-9/_-]*)?$/)
    .default("/admin"),
  /** Sent by the confirmation page only (see confirmedActions). */
  confirmed: z.literal("yes").optional(),
  /** Why the user is denied (the deny form only); mailed to them. */
  reason: printableText(500).trim().optional(),
});
