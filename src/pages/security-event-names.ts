// The account center's words for the audit trail's event types: a person
// reads "Signed in", not "login.succeeded". A type without words here shows
// its name, so a new event is never hidden.

const names: Record<string, string> = {
  "login.succeeded": "Signed in",
  "login.password": "Signed in with a password",
  "login.oauth": "Signed in with a provider",
  "login.failed": "Sign-in failed",
  logout: "Signed out",
  signup: "Account created",
  "user.signup": "Account created",
  "user.created": "Account created",
  "user.approved": "Approved by an administrator",
  "user.denied": "Denied by an administrator",
  "account.auto_approved": "Approved by an allowlist rule",
  "account.locked": "Locked after too many failed sign-ins",
  "account.profile_updated": "Profile changed",
  "account.provider_unlinked": "Provider unlinked",
  "account.linked": "Provider linked",
  "account.exported": "Data downloaded",
  "account.reclaimed": "Account taken over by the mailbox holder",
  "email.verified": "Email address confirmed",
  "email.verification_resent": "Confirmation mail sent again",
  "email_code.requested": "Sign-in code mailed",
  "password.changed": "Password changed",
  "password.reset": "Password reset",
  "password.reset_requested": "Password reset requested",
  "mfa.enrolled": "Authenticator app turned on",
  "mfa.removed": "Authenticator app turned off",
  "mfa.recovery_codes_regenerated": "New recovery codes",
  "mfa.recovery_code_used": "Recovery code used",
  "mfa.challenge_failed": "Wrong second-factor code",
  // Recorded before passkeys were audited as second factors (mfa.*).
  "passkey.registered": "Passkey added",
  "passkey.removed": "Passkey removed",
  "session.revoked": "Device signed out",
  "admin.sessions_revoked": "Signed out everywhere by an administrator",
  "admin.user_updated": "Changed by an administrator",
  "token.issued": "App signed in",
  "token.refreshed": "App refreshed its sign-in",
  "token.revoked": "App signed out",
  "oidc.access_revoked": "App's access removed",
  "token.reuse_detected": "A used app token came back (all its tokens were stopped)",
  "gate.denied": "Refused at an application's gate",
  rate_limited: "Too many attempts",
};

/** Second-factor changes are one event type for every method; the words name the method. */
const byMethod: Record<string, Record<string, string>> = {
  "mfa.enrolled": { passkey: "Passkey added" },
  "mfa.removed": { passkey: "Passkey removed", all: "Second factors reset by an administrator" },
};

export const eventName = (eventType: string, context: Record<string, unknown> = {}) => {
  const method = typeof context.method === "string" ? context.method : "";
  const special = byMethod[eventType]?.[method];
  if (special) return special;
  return Object.hasOwn(names, eventType) ? (names[eventType] as string) : eventType;
};
