import { createHash } from "node:crypto";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { createGzip } from "node:zlib";
import type { DatabasePool } from "slonik";
import {
  beginReadOnlySnapshot,
  firstRowPosition,
  listBackupTables,
  listPartitions,
  readRowPage,
  serverVersion,
} from "../../sql/database-backup.ts";
import { listAppliedMigrations } from "../../sql/schema-migrations.ts";
import type { EncryptionKey } from "../keys/token-encryption.ts";
import { maskDatabaseUrl } from "../logger.ts";
import { gatehouseVersion } from "../version.ts";
import {
  type BackupMetadata,
  backupFormat,
  backupFormatVersion,
  metadataPathOf,
  validateBackup,
} from "./backup-file.ts";
import { signBackupMetadata } from "./backup-signature.ts";

// A logical backup taken by Gatehouse itself rather than pg_dump: the
// embedded server ships no pg_dump and pg_dump refuses servers newer than
// itself, so one portable format works on every server and restores on
// any PostgreSQL this code runs on. One REPEATABLE READ, READ ONLY
// transaction makes every table come from the same snapshot.

export type BackupOptions = {
  pool: DatabasePool;
  databaseUrl: string;
  dir: string;
  compress: boolean;
  validate: boolean;
  /** Signs the metadata (BACKUP_SIGNING_KEYS' first key), so restore knows the backup is ours. */
  signingKey: EncryptionKey;
  /** Rows per read; bounds memory, not correctness. */
  pageSize?: number;
  /** Awaited, so a caller can pace the run (tests write between tables with it). */
  onProgress?: (message: string) => void | Promise<void>;
};

export async function createBackup(options: BackupOptions): Promise<BackupMetadata> {
  const { pool, dir, compress, pageSize = 1000, onProgress } = options;
  await mkdir(dir, { recursive: true });
  const createdAt = new Date();
  const stamp = createdAt.toISOString().replace(/[-:]/g, "").replace(".", "");
  const name = `gatehouse-${stamp}.jsonl${compress ? ".gz" : ""}`;
  const file = resolve(join(dir, name));
  // Never a partial file under the final name: write beside it, rename at the end.
  const partial = `${file}.tmp`;

  const hash = createHash("sha256");
  const out = createWriteStream(partial, { mode: 0o600 });
  const gzip = compress ? createGzip() : null;
  const sink = gzip ?? out;
  if (gzip) {
    // The checksum covers the bytes on disk: the compressed stream.
    gzip.on("data", (chunk: Buffer) => hash.update(chunk));
    gzip.pipe(out);
  }
  out.on("error", (error) => sink.destroy(error));
  const write = async (line: string) => {
    const text = `${line}\n`;
    if (!gzip) hash.update(text);
    if (!sink.write(text)) await once(sink, "drain");
  };

  try {
    const snapshot = await pool.transaction(async (tx) => {
      await beginReadOnlySnapshot(tx);
      const migrations = (await listAppliedMigrations(tx)).map((m) => m.name);
      const version = await serverVersion(tx);
      await write(
        `#${JSON.stringify({
          format: backupFormat,
          format_version: backupFormatVersion,
          created_at: createdAt.toISOString(),
          server_version: version,
          migrations,
        })}`,
      );
      const tables: Record<string, number> = {};
      for (const table of await listBackupTables(tx)) {
        const partitions = table.partitioned ? await listPartitions(tx, table.name) : [];
        await write(`#${JSON.stringify({ table: table.name, partitions })}`);
        let rows = 0;
        // A partitioned table is read leaf by leaf: ctid is only unique within one.
        const sources = table.partitioned ? partitions.map((p) => p.name) : [table.name];
        for (const source of sources) {
          let after = firstRowPosition;
          for (;;) {
            const page = await readRowPage(tx, source, after, pageSize);
            for (const row of page) await write(row.line);
            rows += page.length;
            const last = page.at(-1);
            if (!last || page.length < pageSize) break;
            after = last.position;
            await onProgress?.(`${table.name}: ${rows} rows`);
          }
        }
        await write(`#${JSON.stringify({ end: table.name, rows })}`);
        tables[table.name] = rows;
        await onProgress?.(`${table.name}: ${rows} rows`);
      }
      await write(`#${JSON.stringify({ complete: true, tables })}`);
      return { migrations, version, tables };
    });
    sink.end();
    await once(out, "close");

    const metadata: BackupMetadata = {
      file: name,
      created_at: createdAt.toISOString(),
      size_bytes: (await stat(partial)).size,
      compressed: compress,
      sha256: hash.digest("hex"),
      format: backupFormat,
      format_version: backupFormatVersion,
      gatehouse_version: gatehouseVersion,
      server_version: snapshot.version,
      schema_version: snapshot.migrations.at(-1) ?? null,
      migrations: snapshot.migrations,
      tables: snapshot.tables,
      database_url: maskDatabaseUrl(options.databaseUrl),
      validated: false,
    };
    if (options.validate) {
      await onProgress?.("validating");
      await validateBackup(partial, metadata);
      metadata.validated = true;
    }
    metadata.signature = signBackupMetadata(metadata, options.signingKey);
    await writeFile(`${metadataPathOf(file)}.tmp`, JSON.stringify(metadata, null, 2), {
      mode: 0o600,
    });
    await rename(partial, file);
    await rename(`${metadataPathOf(file)}.tmp`, metadataPathOf(file));
    return metadata;
  } catch (error) {
    sink.destroy();
    await rm(partial, { force: true });
    await rm(`${metadataPathOf(file)}.tmp`, { force: true });
    throw error;
  }
}
