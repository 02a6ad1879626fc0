import { stat } from "node:fs/promises";
import type { DatabasePool } from "slonik";
import {
  flushAllCredentials,
  notifyCredentialListeners,
} from "../../sql/credential-notifications.ts";
import {
  createRangePartition,
  insertJsonRows,
  listBackupTables,
  serviceTables,
  suspendTriggersForRestore,
  truncateTables,
} from "../../sql/database-backup.ts";
import { listAppliedMigrations } from "../../sql/schema-migrations.ts";
import { requeuePendingDeliveries } from "../../sql/webhook-deliveries.ts";
import { migrationNamesOnDisk, runMigrations } from "../db/migrations.ts";
import type { EncryptionKey } from "../keys/token-encryption.ts";
import type { Logger } from "../logger.ts";
import {
  type BackupMetadata,
  InvalidBackup,
  readBackup,
  readBackupMetadata,
  validateBackup,
} from "./backup-file.ts";
import { checkBackupSignature } from "./backup-signature.ts";

// Restore replaces every table's rows with the backup's in one transaction,
// so a failure part-way leaves the database as it was. The schema is first
// brought to the backup's migration version, the rows loaded, then the
// remaining migrations applied: pgmigrations always describes the schema.

export class RestoreRefused extends Error {
  override name = "RestoreRefused";
}

const rangeBound = /^FOR VALUES FROM \('([^']+)'\) TO \('([^']+)'\)$/;

function refuseUnlessSigned(metadata: BackupMetadata, keys: readonly EncryptionKey[]) {
  const check = checkBackupSignature(metadata, keys);
  if (check.status === "unsigned") {
    throw new RestoreRefused(
      "the backup is not signed (no MAC from BACKUP_SIGNING_KEYS); restore it with --trust-unsigned only if you know where it came from",
    );
  }
  if (check.status === "unknown_key") {
    throw new RestoreRefused(
      `the backup is signed with key '${check.keyId}', which BACKUP_SIGNING_KEYS does not hold`,
    );
  }
  if (check.status === "invalid") {
    throw new RestoreRefused(
      "the backup's signature does not match: it was changed, or made without the signing key",
    );
  }
}

/**
 * Reads and checks a backup before anything is touched: its origin (the MAC,
 * unless the operator vouches for it with `trustUnsigned`), its integrity,
 * its schema version and that it holds only the service's tables. Throws
 * InvalidBackup / RestoreRefused.
 */
export async function checkBackupForRestore(
  file: string,
  { keys, trustUnsigned }: { keys: readonly EncryptionKey[]; trustUnsigned: boolean },
): Promise<BackupMetadata> {
  const found = await stat(file).catch(() => null);
  if (!found) throw new InvalidBackup(`${file} does not exist`);
  if (!found.isFile()) throw new InvalidBackup(`${file} is not a file`);
  const metadata = await readBackupMetadata(file);
  if (!trustUnsigned) refuseUnlessSigned(metadata, keys);
  await validateBackup(file, metadata);
  const foreign = Object.keys(metadata.tables).filter((t) => !serviceTables.includes(t));
  if (foreign.length > 0) {
    throw new RestoreRefused(
      `the backup holds tables Gatehouse does not own: ${foreign.join(", ")}`,
    );
  }
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
        // Checked again here, as the rows are read: the metadata said so, the file must too.
        if (!serviceTables.includes(record.table)) {
          throw new RestoreRefused(
            `the backup holds a table Gatehouse does not own: ${record.table}`,
          );
        }
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
    // The delivery queue is not backed up: what was still to be sent is queued again.
    if ("webhook_deliveries" in counts) await requeuePendingDeliveries(tx);
    return counts;
  });
  await runMigrations({ databaseUrl, direction: "up", logger });
  return restored;
}
