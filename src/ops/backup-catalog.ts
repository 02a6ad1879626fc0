import { readdir, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { type BackupMetadata, metadataPathOf, readBackupMetadata } from "./backup-file.ts";

// The backups of a folder, known by their metadata files: a data file with
// no metadata beside it is not a finished backup.

export type ListedBackup = { path: string; metadata: BackupMetadata };

/** Backups in `dir`, newest first; a missing folder has none. */
export async function listBackups(dir: string): Promise<ListedBackup[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const found: ListedBackup[] = [];
  for (const name of names) {
    if (!/^gatehouse-.*\.jsonl(\.gz)?$/.test(name)) continue;
    const path = resolve(join(dir, name));
    try {
      found.push({ path, metadata: await readBackupMetadata(path) });
    } catch {
      // Not finished, or not ours: listing skips it rather than failing.
    }
  }
  return found.sort((a, b) => b.metadata.created_at.localeCompare(a.metadata.created_at));
}

/** Deletes backups (data and metadata) created before `cutoff`; returns how many. */
export async function pruneBackups(
  dir: string,
  cutoff: Date,
  { dryRun = false } = {},
): Promise<number> {
  let removed = 0;
  for (const backup of await listBackups(dir)) {
    if (new Date(backup.metadata.created_at) >= cutoff) continue;
    if (!dryRun) {
      await rm(backup.path, { force: true });
      await rm(metadataPathOf(backup.path), { force: true });
    }
    removed++;
  }
  return removed;
}
