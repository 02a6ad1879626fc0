import type { CommonQueryMethods, DatabasePool } from "slonik";
import { insertAuditEvent, type NewAuditEvent } from "../sql/audit-events.ts";
import { enqueueBackchannelLogouts } from "../sql/backchannel-logouts.ts";
import { enqueueDeliveries } from "../sql/webhook-deliveries.ts";
import type { Logger } from "./logger.ts";
import { endsSignIn } from "./oidc/backchannel-events.ts";
import { webhookDataOf, webhookEventsOf, webhookPayload } from "./webhooks/events.ts";

export type AuditEntry = NewAuditEvent;

/** Where a request came from, as every audit event of it records. */
export type RequestFacts = { ip: string | null; userAgent: string | null };

/** What a domain operation that writes and audits needs. */
export type AuditedDeps = { pool: DatabasePool; logger: Logger };

/**
 * Records a security event. A failing audit write is logged loudly but does
 * not fail the user's request: the event it describes has already happened.
 * Pass a transaction connection to make the event commit with its change.
 *
 * An event that a webhook reports (src/webhooks/events.ts) is written with
 * a delivery for every subscribed endpoint, together: in their own
 * transaction, or a savepoint of the caller's (so the change and its
 * deliveries commit or vanish together, and a failure here leaves the
 * caller's transaction usable). An event that ends a user's sign-in
 * (src/oidc/backchannel-events.ts) queues, the same way, a back-channel
 * logout notice for every relying party that asked for one.
 */
export async function recordAudit(
  db: CommonQueryMethods,
  logger: Logger,
  entry: AuditEntry,
): Promise<void> {
  const webhookEvents = webhookEventsOf(entry);
  const signedOut = entry.userId ? endsSignIn(entry) : false;
  try {
    if (webhookEvents.length === 0 && !signedOut) {
      await insertAuditEvent(db, entry);
      return;
    }
    await db.transaction(async (tx) => {
      await insertAuditEvent(tx, entry);
      if (webhookEvents.length > 0) {
        const data = webhookDataOf(entry);
        for (const eventType of webhookEvents) {
          await enqueueDeliveries(tx, { eventType, payload: webhookPayload(eventType, data) });
        }
      }
      if (signedOut && entry.userId) await enqueueBackchannelLogouts(tx, entry.userId);
    });
  } catch (error) {
    logger.error({ err: error, eventType: entry.eventType }, "audit event not recorded");
  }
}
