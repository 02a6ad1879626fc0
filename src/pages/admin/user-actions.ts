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

export const userActionForm = z.object({
  action: z.enum(Object.keys(formActions) as [FormAction, ...FormAction[]]),
  // Only our own pages: a crafted `back` must not turn this into an open redirect.
  back: z
    .string()
    .regex(/^\/admin(\/[A-Za-z0-9/_-]*)?$/)
    .default("/admin"),
  /** Why the user is denied (the deny form only); mailed to them. */
  reason: printableText(500).trim().optional(),
});
