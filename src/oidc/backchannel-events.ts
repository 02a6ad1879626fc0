// Which audited events end a user's sign-in at Gatehouse, so that relying
// parties with a back-channel logout URI are told (OpenID Connect
// Back-Channel Logout 1.0): recordAudit asks here, as it asks
// src/webhooks/events.ts, and queues the notices in the same transaction.
// No imports: src/audit.ts reads this, and the OpenID modules import audit.

type Entry = { eventType: string; result: string; context?: Record<string, unknown> | undefined };

export function endsSignIn(entry: Entry): boolean {
  if (entry.result !== "success") return false;
  switch (entry.eventType) {
    // Signing out (the sign-in page, POST /auth/logout, RP-initiated logout).
    case "logout":
    // A device, or every other one, signed out by the user or an administrator.
    case "session.revoked":
    case "admin.sessions_revoked":
      return true;
    // Deactivated or locked: every session was revoked with the change.
    case "admin.user_updated":
      return entry.context?.revoked_sessions !== undefined;
    default:
      return false;
  }
}
