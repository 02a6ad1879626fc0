import { resolve } from "node:path";
import { parseDuration } from "../duration.ts";
import { runCleanup } from "../ops/cleanup.ts";
import { type CliCommand, CliError, output, withDatabase } from "./command.ts";
import { progressLine } from "./progress.ts";

const help = `usage: gatehouse cleanup [--retention DURATION] [--grace DURATION] [--dry-run] [--json]

Deletes, in batches: sessions and refresh tokens expired or revoked more than
the grace period ago (CLEANUP_GRACE_PERIOD, 7d), used or expired verification
tokens past the same grace, deny-list rows past their expiry; drops audit
partitions older than AUDIT_RETENTION_DAYS and creates the coming months'
partitions; deletes backups older than the retention (BACKUP_RETENTION, 30d).
Takes the same advisory lock as the server's scheduled run, so it does
nothing while another run is working.

  --retention DURATION   keep backups this long (e.g. 14d)
  --grace DURATION       keep dead sessions and tokens this long (e.g. 1d)
  --dry-run              count what would go, delete nothing`;

function durationOption(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  const ms = typeof value === "string" ? parseDuration(value) : null;
  if (ms === null)
    throw new CliError(`--${name} expects a duration like 12h or 30d, not '${value}'`);
  return ms;
}

export const cleanupCommand: CliCommand = {
  summary: "delete expired rows, old audit partitions and old backups",
  help,
  options: {
    retention: { type: "string" },
    grace: { type: "string" },
    "dry-run": { type: "boolean" },
  },
  run: async ({ values, positionals, json }) => {
    if (positionals.length > 0) throw new CliError("cleanup takes no arguments");
    const progress = progressLine();
    const report = await withDatabase(
      ({ config, db }) =>
        runCleanup({
          pool: db.pool,
          graceMs: durationOption("grace", values.grace, config.ops.CLEANUP_GRACE_PERIOD),
          auditRetentionDays: config.ops.AUDIT_RETENTION_DAYS,
          backupDir: resolve(config.ops.BACKUP_DIR),
          backupRetentionMs: durationOption(
            "retention",
            values.retention,
            config.ops.BACKUP_RETENTION,
          ),
          dryRun: values["dry-run"] === true,
          onProgress: progress.update,
        }),
      { migrate: true },
    );
    progress.done();
    output(json, report, () => {
      if (!report.ran) return `cleanup skipped: ${report.reason}`;
      const verb = report.dry_run ? "would remove" : "removed";
      return [
        ...Object.entries(report.removed).map(
          ([what, n]) => `${verb} ${String(n).padStart(7)}  ${what}`,
        ),
        `${report.dry_run ? "would drop" : "dropped"} audit partitions: ${report.audit_partitions_dropped.join(", ") || "none"}`,
        `created audit partitions: ${report.audit_partitions_created}`,
      ].join("\n");
    });
    return 0;
  },
};
