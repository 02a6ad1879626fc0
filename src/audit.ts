import type { CommonQueryMethods, DatabasePool } from "slonik";
import { insertAuditEvent, type NewAuditEvent } from "../sql/audit-events.ts";
import type { Logger } from "./logger.ts";

export type AuditEntry = NewAuditEvent;

/** Where a request came from, as every audit event of it records. */
export type RequestFacts = { ip: string | null; userAgent: string | null };

/** What a domain operation that writes and audits needs. */
export type AuditedDeps = { pool: DatabasePool; logger: Logger };

/**
 * Records a security event. A failing audit write is logged loudly but does
 * not fail the user's request: the event it describes has already happened.
 * Pass a transaction connection to make the event commit with its change.
 */
export async function recordAudit(
  db: CommonQueryMethods,
  logger: Logger,
  entry: AuditEntry,
): Promise<void> {
  try {
    await insertAuditEvent(db, entry);
  } catch (error) {
    logger.error({ err: error, eventType: entry.eventType }, "audit event not recorded");
  }
}
