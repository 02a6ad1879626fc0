import type { DatabasePool } from "slonik";
import {
  flushAllCredentials,
  notifyCredentialListeners,
} from "../../sql/credential-notifications.ts";
import {
  createRangePartition,
  insertJsonRows,
  listBackupTables,
  suspendTriggersForRestore,
  truncateTables,
} from "../../sql/database-backup.ts";
import { listAppliedMigrations } from "../../sql/schema-migrations.ts";
import { migrationNamesOnDisk, runMigrations } from "../db/migrations.ts";
import type { Logger } from "../logger.ts";
import {
  type BackupMetadata,
  InvalidBackup,
  readBackup,
  readBackupMetadata,
  validateBackup,
} from "./backup-file.ts";

// Restore replaces every table's rows with the backup's in one transaction,
// so a failure part-way leaves the database as it was. The schema is first
// brought to the backup's migration version, the rows loaded, then the
// remaining migrations applied: pgmigrations always describes the schema.

export class RestoreRefused extends Error {
  override name = "RestoreRefused";
}

const rangeBound = /^FOR VALUES FROM \('([^']+)'\) TO \('([^']+)'\)$/;

/** Reads and checks a backup before anything is touched; throws InvalidBackup / RestoreRefused. */
export async function checkBackupForRestore(file: string): Promise<BackupMetadata> {
  const metadata = await readBackupMetadata(file);
  await validateBackup(file, metadata);
  const onDisk = await migrationNamesOnDisk();
  const unknown = metadata.migrations.filter((name) => !onDisk.includes(name));
  if (unknown.length > 0) {
    throw new RestoreRefused(
      `the backup's schema is newer than this code (unknown migrations: ${unknown.join(", ")}); restore it with a newer Gatehouse`,
    );
  }
  if (metadata.migrations.some((name, i) => onDisk[i] !== name)) {
    throw new RestoreRefused("the backup's migrations are not a prefix of this code's migrations");
  }
  return metadata;
}

/** Migrates the target up or down until its applied migrations are exactly `wanted`. */
async function migrateTo(
  pool: DatabasePool,
  databaseUrl: string,
  wanted: string[],
  logger: Logger,
) {
  const applied = (await listAppliedMigrations(pool)).map((m) => m.name);
  let common = 0;
  while (common < applied.length && common < wanted.length && applied[common] === wanted[common]) {
    common++;
  }
  if (applied.length > common) {
    await runMigrations({ databaseUrl, direction: "down", count: applied.length - common, logger });
  }
  if (wanted.length > common) {
    await runMigrations({ databaseUrl, direction: "up", count: wanted.length - common, logger });
  }
}

export async function restoreBackup({
  pool,
  databaseUrl,
  file,
  metadata,
  logger,
  onProgress,
}: {
  pool: DatabasePool;
  databaseUrl: string;
  file: string;
  metadata: BackupMetadata;
  logger: Logger;
  onProgress?: (message: string) => void;
}): Promise<Record<string, number>> {
  await migrateTo(pool, databaseUrl, metadata.migrations, logger);
  const restored = await pool.transaction(async (tx) => {
    await suspendTriggersForRestore(tx).catch(
      (error: { code?: string; cause?: { code?: string } }) => {
        if (error.code === "42501" || error.cause?.code === "42501") {
          throw new RestoreRefused(
            "restore needs a superuser, or (PostgreSQL 15+) GRANT SET ON PARAMETER session_replication_role TO <this role>",
          );
        }
        throw error;
      },
    );
    await truncateTables(
      tx,
      (await listBackupTables(tx)).map((t) => t.name),
    );
    const counts: Record<string, number> = {};
    for await (const record of readBackup(file)) {
      if (record.kind === "table") {
        counts[record.table] = 0;
        for (const partition of record.partitions) {
          const bound = rangeBound.exec(partition.bound);
          if (partition.bound === "DEFAULT") continue;
          if (!bound?.[1] || !bound[2]) {
            throw new InvalidBackup(`unsupported partition bound for ${partition.name}`);
          }
          await createRangePartition(tx, record.table, {
            name: partition.name,
            from: bound[1],
            to: bound[2],
          });
        }
      } else if (record.kind === "rows") {
        counts[record.table] =
          (counts[record.table] ?? 0) + (await insertJsonRows(tx, record.table, record.lines));
        onProgress?.(`${record.table}: ${counts[record.table]} rows`);
      }
    }
    // Triggers were off: at commit, every replica drops its cached credentials.
    await notifyCredentialListeners(tx, flushAllCredentials);
    return counts;
  });
  await runMigrations({ databaseUrl, direction: "up", logger });
  return restored;
}
