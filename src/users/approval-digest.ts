import type { DatabasePool } from "slonik";
import { claimDueDigests, listWaitingUsers } from "../../sql/approval-digests.ts";
import { countPendingUsers } from "../../sql/user-listing.ts";
import { recordAudit } from "../audit.ts";
import type { Config } from "../config/index.ts";
import type { Logger } from "../logger.ts";
import type { Mailer } from "../mail/mailer.ts";
import { approvalDigestMail, type WaitingLine } from "../mail/templates.ts";
import { deliverLater } from "../password/account-mail.ts";

// The approval queue's mail to administrators: when someone joins the queue,
// each usable administrator gets a digest of everyone waiting, at most one
// per APPROVAL_DIGEST_INTERVAL. A newcomer triggers a run at once; a schedule
// in every replica catches those who arrived while the interval was running.
// Which replica mails an administrator is settled by one conditional upsert
// per run (sql/approval-digests.ts), so two replicas never both send it.

export type DigestDeps = {
  pool: DatabasePool;
  logger: Logger;
  mailer: Mailer;
  config: Pick<Config, "http" | "access">;
};

const listed = 50;

const whoIs = (u: {
  id: string;
  email: string | null;
  username: string | null;
  full_name: string | null;
}) => {
  const handle = u.email ?? u.username ?? u.id;
  return u.full_name ? `${handle} (${u.full_name})` : handle;
};

/** Sends the digests that are due; returns how many administrators were mailed. */
export async function sendApprovalDigests(deps: DigestDeps): Promise<number> {
  const { pool, logger, config } = deps;
  const due = await pool.transaction(async (tx) => {
    const admins = await claimDueDigests(tx, config.access.APPROVAL_DIGEST_INTERVAL);
    if (admins.length === 0) return null;
    const waiting = await listWaitingUsers(tx, listed);
    const total = await countPendingUsers(tx);
    for (const admin of admins) {
      await recordAudit(tx, logger, {
        eventType: "approval.digest_sent",
        result: "success",
        userId: admin.admin_id,
        actorId: null,
        ip: null,
        userAgent: null,
        context: { pending: total },
      });
    }
    return { admins, waiting, total };
  });
  if (!due) return 0;
  const lines: WaitingLine[] = due.waiting.map((u) => ({
    who: whoIs(u),
    method: u.provider ? `signed in with ${u.provider}` : "signed up with a password",
    since: u.created_at,
    unverified: u.email !== null && !u.email_verified,
  }));
  const content = approvalDigestMail(lines, due.total, `${config.http.PUBLIC_URL}/admin#pending`);
  for (const admin of due.admins) {
    deliverLater(
      deps,
      { to: admin.email, content, userId: admin.admin_id, purpose: "approval_digest" },
      { ip: null, userAgent: null },
    );
  }
  return due.admins.length;
}

/** After a user joined the queue: the digest run, after the answer (its failure only logged). */
export function digestSoon(deps: DigestDeps): void {
  sendApprovalDigests(deps).catch((error: unknown) =>
    deps.logger.error({ err: error }, "approval digest failed"),
  );
}

/**
 * Every replica checks for due digests this often (at most a minute, so one
 * held back by the interval goes out soon after it ends). A run never
 * overlaps the previous one of the same process.
 */
export function startApprovalDigestSchedule(deps: DigestDeps): { stop: () => Promise<void> } {
  let running: Promise<unknown> | null = null;
  const tick = () => {
    if (running) return;
    running = sendApprovalDigests(deps)
      .catch((error: unknown) => deps.logger.error({ err: error }, "approval digest failed"))
      .finally(() => {
        running = null;
      });
  };
  const every = Math.min(deps.config.access.APPROVAL_DIGEST_INTERVAL, 60_000);
  const timer = setInterval(tick, every);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
