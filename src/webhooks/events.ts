import { type NewAuditEvent as AuditEntry, personalContextKeys } from "../../sql/audit-events.ts";

// Which recorded audit events a webhook reports. recordAudit asks here, so
// any change that is audited under one of these names is reported in the
// same transaction, with no call of its own.

export const webhookEventTypes = [
  "user.created",
  "user.pending",
  "user.approved",
  "user.denied",
  "user.unapproved",
  "user.deactivated",
  "user.deleted",
  "session.revoked",
  "login.failed",
  "mfa.enabled",
  "mfa.disabled",
] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number];

/** What "send a test event" sends: no endpoint subscribes to it, each can ask for it. */
export const testEventType = "webhook.test";

type Context = NonNullable<AuditEntry["context"]>;

/** A user who arrives already let in (a rule, ADMIN_EMAILS) does not wait at the gate. */
const createdUser = (c: Context): WebhookEventType[] =>
  c.whitelisted === true || c.role === "admin"
    ? ["user.created"]
    : ["user.created", "user.pending"];

const successes: Record<string, (context: Context) => WebhookEventType[]> = {
  "user.created": createdUser,
  // A password sign-up waits for its address to be verified and then for the gate.
  signup: () => ["user.created", "user.pending"],
  "user.approved": () => ["user.approved"],
  "account.auto_approved": () => ["user.approved"],
  "user.denied": () => ["user.denied"],
  // Back at the gate: the rule that let them in was deleted, or GitHub says
  // they left the organisation it named.
  "user.unapproved": () => ["user.unapproved"],
  "admin.user_updated": (c) => (c.status === "inactive" ? ["user.deactivated"] : []),
  "admin.user_deleted": () => ["user.deleted"],
  "account.deleted": () => ["user.deleted"],
  "session.revoked": () => ["session.revoked"],
  "admin.sessions_revoked": () => ["session.revoked"],
  "mfa.enrolled": () => ["mfa.enabled"],
  "mfa.removed": () => ["mfa.disabled"],
};

const failures: Record<string, (context: Context) => WebhookEventType[]> = {
  "login.failed": () => ["login.failed"],
};

/** The webhook events an audit entry reports (often none). */
export function webhookEventsOf(entry: AuditEntry): WebhookEventType[] {
  const table = entry.result === "success" ? successes : failures;
  return table[entry.eventType]?.(entry.context ?? {}) ?? [];
}

export type WebhookData = Record<string, string | number | boolean | null | readonly string[]>;

/**
 * An event's `data`: who it is about, who did it, and the audit context
 * without what identifies a person (address, name, IP, user agent), which a
 * receiver can read from the admin API and which a deletion must be able to
 * erase. Audit entries hold no secrets.
 */
export function webhookDataOf(entry: AuditEntry): WebhookData {
  const data: WebhookData = { user_id: entry.userId ?? null };
  if (entry.actorId) data.actor_id = entry.actorId;
  if (entry.failureReason) data.reason = entry.failureReason;
  for (const [key, value] of Object.entries(entry.context ?? {})) {
    if (!personalContextKeys.includes(key)) data[key] = value;
  }
  return data;
}

/** The Standard Webhooks payload: `{type, timestamp, data}`. */
export type WebhookPayload = { type: string; timestamp: string; data: WebhookData };

export const webhookPayload = (
  type: string,
  data: WebhookData,
  at = new Date(),
): WebhookPayload => ({
  type,
  timestamp: at.toISOString(),
  data,
});
