import type { DatabasePool } from "slonik";
import type { Config } from "../config/index.ts";
import type { Logger } from "../logger.ts";
import { runCleanup } from "./cleanup.ts";

/**
 * Runs the cleanup job every CLEANUP_INTERVAL in the server. Every replica
 * schedules it; the advisory lock inside runCleanup makes one of them work.
 * A run never overlaps the previous one of the same process.
 */
export function startCleanupSchedule({
  pool,
  config,
  logger,
}: {
  pool: DatabasePool;
  config: Pick<Config, "ops">;
  logger: Logger;
}): { stop: () => Promise<void> } {
  let running: Promise<void> | null = null;
  const tick = () => {
    if (running) return;
    running = runCleanup({
      pool,
      graceMs: config.ops.CLEANUP_GRACE_PERIOD,
      auditRetentionDays: config.ops.AUDIT_RETENTION_DAYS,
      backupDir: config.ops.BACKUP_DIR,
      backupRetentionMs: config.ops.BACKUP_RETENTION,
    })
      .then((report) => {
        if (report.ran) logger.info({ cleanup: report }, "cleanup done");
        else logger.debug({ reason: report.reason }, "cleanup skipped");
      })
      .catch((error: unknown) => logger.error({ err: error }, "cleanup failed"))
      .finally(() => {
        running = null;
      });
  };
  // Timers hold at most 2^31-1 ms; a longer interval would fire at once, forever.
  const timer = setInterval(tick, Math.min(config.ops.CLEANUP_INTERVAL, 2 ** 31 - 1));
  timer.unref();
  // A first run soon after start, so frequent restarts do not starve the job.
  const first = setTimeout(tick, 30_000);
  first.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      clearTimeout(first);
      await running;
    },
  };
}
