import type { DatabasePool } from "slonik";
import { releaseAdvisoryLock, tryAdvisoryLock } from "../../sql/advisory-locks.ts";
import {
  countDefaultPartitionEventsBefore,
  deleteDefaultPartitionEventsBefore,
  dropAuditPartition,
  ensureAuditPartitions,
  listAuditMonthPartitions,
} from "../../sql/audit-events.ts";
import { countDeadRows, deleteDeadRows, type SweptTable } from "../../sql/dead-rows.ts";
import { deadAuthorizationCodes } from "../../sql/oauth-authorization-codes.ts";
import { spentPendingSignIns } from "../../sql/pending-sign-ins.ts";
import { endedRateLimitCounters } from "../../sql/rate-limit-counters.ts";
import { deadRefreshTokens } from "../../sql/refresh-tokens.ts";
import { expiredDeniedTokens } from "../../sql/revoked-access-tokens.ts";
import { countDeadSessions, deleteDeadSessions } from "../../sql/sessions.ts";
import { spentVerificationTokens } from "../../sql/verification-tokens.ts";
import { expiredChallenges } from "../../sql/webauthn-challenges.ts";
import { cleanupRowsRemoved, cleanupRuns } from "../metrics.ts";
import { pruneBackups } from "./backup-catalog.ts";

// The housekeeping job, shared by `gatehouse cleanup` and the server's
// schedule. It holds an advisory lock for the whole run, so of N replicas
// (and an operator's CLI) one works and the others skip. Deletes go in
// small batches, each its own statement, so no lock is held for long.

export const cleanupLockName = "gatehouse.cleanup";
const auditMonthsAhead = 3;

export type CleanupOptions = {
  pool: DatabasePool;
  /** Expired/revoked/used rows are kept this long after they died. */
  graceMs: number;
  auditRetentionDays: number;
  backupDir: string;
  backupRetentionMs: number;
  dryRun?: boolean;
  batchSize?: number;
  now?: Date;
  /** Runs while the lock is held, before any work (tests hold a run here). */
  whileLocked?: () => Promise<void>;
  onProgress?: (message: string) => void;
};

export type CleanupReport =
  | { ran: false; reason: string }
  | {
      ran: true;
      dry_run: boolean;
      removed: {
        sessions: number;
        refresh_tokens: number;
        verification_tokens: number;
        pending_sign_ins: number;
        webauthn_challenges: number;
        oauth_authorization_codes: number;
        revoked_access_tokens: number;
        audit_events_default: number;
        rate_limit_counters: number;
        backups: number;
      };
      audit_partitions_dropped: string[];
      audit_partitions_created: number;
    };

/** The tables a run sweeps, as named in its report. */
type Swept = Exclude<keyof Extract<CleanupReport, { ran: true }>["removed"], "backups">;

async function inBatches(
  deleteBatch: (limit: number) => Promise<number>,
  batchSize: number,
  onBatch: (total: number) => void,
): Promise<number> {
  let total = 0;
  for (;;) {
    const removed = await deleteBatch(batchSize);
    total += removed;
    if (removed > 0) onBatch(total);
    if (removed < batchSize) return total;
  }
}

/** Adapts a keyset batch (which reports the last id it passed) to inBatches. */
function keysetSteps(
  deleteBatch: (
    limit: number,
    after: string | null,
  ) => Promise<{ removed: number; last: string | null }>,
): (limit: number) => Promise<number> {
  let after: string | null = null;
  return async (limit) => {
    const batch = await deleteBatch(limit, after);
    after = batch.last ?? after;
    return batch.removed;
  };
}

export async function runCleanup(options: CleanupOptions): Promise<CleanupReport> {
  const { pool, dryRun = false, batchSize = 1000, onProgress } = options;
  return pool.connect(async (lockConnection) => {
    if (!(await tryAdvisoryLock(lockConnection, cleanupLockName))) {
      cleanupRuns.inc({ outcome: "skipped" });
      return { ran: false, reason: "another cleanup run holds the lock" } as const;
    }
    try {
      await options.whileLocked?.();
      const now = options.now ?? new Date();
      const cutoff = new Date(now.getTime() - options.graceMs);
      const auditCutoff = new Date(now.getTime() - options.auditRetentionDays * 86_400_000);
      const batched = (label: string, fn: (limit: number) => Promise<number>) =>
        inBatches(fn, batchSize, (n) => onProgress?.(`${label}: ${n} removed`));

      // Each table's dead rows: counted on a dry run, else deleted in batches.
      // Refresh tokens first: a session is only removable once its tokens are gone.
      type Sweep = [Swept, () => Promise<number>, (limit: number) => Promise<number>];
      const sweepOf = (what: Swept, table: SweptTable): Sweep => [
        what,
        () => countDeadRows(pool, table, cutoff),
        (n) => deleteDeadRows(pool, table, cutoff, n),
      ];
      const sweeps: Sweep[] = [
        sweepOf("refresh_tokens", deadRefreshTokens),
        [
          "sessions",
          () => countDeadSessions(pool, cutoff),
          keysetSteps((n, after) => deleteDeadSessions(pool, cutoff, n, after)),
        ],
        sweepOf("verification_tokens", spentVerificationTokens),
        sweepOf("pending_sign_ins", spentPendingSignIns),
        sweepOf("webauthn_challenges", expiredChallenges),
        sweepOf("oauth_authorization_codes", deadAuthorizationCodes),
        sweepOf("revoked_access_tokens", expiredDeniedTokens),
        [
          "audit_events_default",
          () => countDefaultPartitionEventsBefore(pool, auditCutoff),
          (n) => deleteDefaultPartitionEventsBefore(pool, auditCutoff, n),
        ],
        sweepOf("rate_limit_counters", endedRateLimitCounters),
      ];
      const swept = {} as Record<Swept, number>;
      for (const [what, count, remove] of sweeps) {
        swept[what] = dryRun ? await count() : await batched(what, remove);
      }
      const removed = {
        sessions: swept.sessions,
        refresh_tokens: swept.refresh_tokens,
        verification_tokens: swept.verification_tokens,
        pending_sign_ins: swept.pending_sign_ins,
        webauthn_challenges: swept.webauthn_challenges,
        oauth_authorization_codes: swept.oauth_authorization_codes,
        revoked_access_tokens: swept.revoked_access_tokens,
        audit_events_default: swept.audit_events_default,
        rate_limit_counters: swept.rate_limit_counters,
        backups: 0,
      };

      // A month is dropped once all of it is older than the retention.
      const expiredPartitions = (await listAuditMonthPartitions(pool)).filter(
        (p) => p.ends_at <= auditCutoff,
      );
      if (!dryRun) {
        for (const partition of expiredPartitions) await dropAuditPartition(pool, partition.name);
      }
      const created = dryRun ? 0 : await ensureAuditPartitions(pool, auditMonthsAhead);
      removed.backups = await pruneBackups(
        options.backupDir,
        new Date(now.getTime() - options.backupRetentionMs),
        { dryRun },
      );

      if (!dryRun) {
        cleanupRuns.inc({ outcome: "done" });
        for (const [what, count] of Object.entries(removed)) {
          cleanupRowsRemoved.inc({ what }, count);
        }
        cleanupRowsRemoved.inc({ what: "audit_partitions" }, expiredPartitions.length);
      }
      return {
        ran: true,
        dry_run: dryRun,
        removed,
        audit_partitions_dropped: expiredPartitions.map((p) => p.name),
        audit_partitions_created: created,
      } as const;
    } catch (error) {
      cleanupRuns.inc({ outcome: "failed" });
      throw error;
    } finally {
      await releaseAdvisoryLock(lockConnection, cleanupLockName);
    }
  });
}
