import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CleanupOptions, runCleanup } from "../../src/ops/cleanup.ts";

const day = 86_400_000;

/** One cleanup run with the CLI's defaults (a day's grace, 90 days of audit), backups in a temp folder. */
export async function cleanupNow(
  pool: CleanupOptions["pool"],
  overrides: Partial<Omit<CleanupOptions, "pool">> = {},
) {
  return runCleanup({
    pool,
    graceMs: day,
    auditRetentionDays: 90,
    backupDir: await mkdtemp(join(tmpdir(), "gatehouse-cleanup-")),
    backupRetentionMs: 30 * day,
    ...overrides,
  });
}
