import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, readFile } from "node:fs/promises";
import { createGunzip } from "node:zlib";
import { z } from "zod";
import { isPartitionNameOf } from "../../sql/database-backup.ts";
import { backupSignature } from "./backup-signature.ts";

// The backup file: JSON lines, gzip-compressed by default. Lines starting
// with '#' are control records (header, table start/end, trailer); every
// other line is one row as row_to_json text. The trailer repeats the row
// counts, so a file cut short is recognised without its metadata.

export const backupFormat = "gatehouse-backup";
export const backupFormatVersion = 1;

export const backupHeader = z.object({
  format: z.literal(backupFormat),
  format_version: z.literal(backupFormatVersion),
  created_at: z.string(),
  server_version: z.string(),
  migrations: z.array(z.string()),
});
export type BackupHeader = z.infer<typeof backupHeader>;

export const tableStart = z.object({
  table: z.string(),
  partitions: z.array(z.object({ name: z.string(), bound: z.string() })),
});
export const tableEnd = z.object({ end: z.string(), rows: z.number().int() });
export const backupTrailer = z.object({
  complete: z.literal(true),
  tables: z.record(z.string(), z.number().int()),
});

/** The metadata JSON written beside each backup (`<file>.json`). */
export const backupMetadata = z.object({
  file: z.string(),
  created_at: z.string(),
  size_bytes: z.number().int(),
  compressed: z.boolean(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  format: z.literal(backupFormat),
  format_version: z.number().int(),
  gatehouse_version: z.string(),
  server_version: z.string(),
  schema_version: z.string().nullable(),
  migrations: z.array(z.string()),
  tables: z.record(z.string(), z.number().int()),
  database_url: z.string(),
  validated: z.boolean(),
  /** HMAC over the rest of this metadata (backup-signature.ts); absent before it existed. */
  signature: backupSignature.optional(),
});
export type BackupMetadata = z.infer<typeof backupMetadata>;

export class InvalidBackup extends Error {
  override name = "InvalidBackup";
}

export const metadataPathOf = (file: string) => `${file}.json`;

export async function readBackupMetadata(file: string): Promise<BackupMetadata> {
  let text: string;
  try {
    text = await readFile(metadataPathOf(file), "utf8");
  } catch {
    throw new InvalidBackup(`no metadata beside the backup (expected ${metadataPathOf(file)})`);
  }
  const parsed = backupMetadata.safeParse(JSON.parse(text));
  if (!parsed.success) throw new InvalidBackup(`${metadataPathOf(file)} is not backup metadata`);
  return parsed.data;
}

async function isGzip(file: string): Promise<boolean> {
  const handle = await open(file, "r");
  try {
    const magic = Buffer.alloc(2);
    await handle.read(magic, 0, 2, 0);
    return magic[0] === 0x1f && magic[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

/** SHA-256 (hex) of a file's bytes, streamed. */
export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** The file's lines, decompressed when it is gzip; a corrupt or cut gzip stream throws. */
export async function* backupLines(file: string): AsyncGenerator<string> {
  const raw = createReadStream(file);
  let source: AsyncIterable<Buffer> = raw;
  if (await isGzip(file)) {
    const gunzip = createGunzip();
    raw.on("error", (error) => gunzip.destroy(error));
    raw.pipe(gunzip);
    source = gunzip;
  }
  let rest = "";
  for await (const chunk of source) {
    const text = rest + chunk.toString("utf8");
    const lines = text.split("\n");
    rest = lines.pop() ?? "";
    yield* lines;
  }
  if (rest !== "") yield rest;
}

export type BackupRecord =
  | { kind: "header"; header: BackupHeader }
  | { kind: "table"; table: string; partitions: z.infer<typeof tableStart>["partitions"] }
  | { kind: "rows"; table: string; lines: string[] }
  | { kind: "end"; table: string; rows: number }
  | { kind: "trailer"; tables: Record<string, number> };

function parseControl<T>(schema: z.ZodType<T>, line: string): T | null {
  try {
    const parsed = schema.safeParse(JSON.parse(line.slice(1)));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/**
 * Reads a backup as records, checking its structure as it goes: a header
 * first, rows only inside a table, each table's count matching its end
 * record, and a trailer last. Rows come in batches of `batchSize` lines.
 */
export async function* readBackup(file: string, batchSize = 500): AsyncGenerator<BackupRecord> {
  let header: BackupHeader | null = null;
  let current: { table: string; rows: number } | null = null;
  let batch: string[] = [];
  let trailer: Record<string, number> | null = null;
  const counts: Record<string, number> = {};
  const fail = (why: string): never => {
    throw new InvalidBackup(`${file}: ${why}`);
  };
  try {
    for await (const line of backupLines(file)) {
      if (trailer) fail("data after the end of the backup");
      if (!header) {
        header = parseControl(backupHeader, line) ?? fail("not a gatehouse backup (bad header)");
        yield { kind: "header", header };
        continue;
      }
      if (line.startsWith("{")) {
        if (!current) fail("a row outside any table");
        const open = current as { table: string; rows: number };
        open.rows++;
        batch.push(line);
        if (batch.length >= batchSize) {
          yield { kind: "rows", table: open.table, lines: batch };
          batch = [];
        }
        continue;
      }
      if (!line.startsWith("#")) fail("an unreadable line");
      const start = parseControl(tableStart, line);
      if (start) {
        if (current) fail(`table ${start.table} starts inside ${current.table}`);
        // Restore creates these partitions: only under their own table's name.
        const stray = start.partitions.find((p) => !isPartitionNameOf(start.table, p.name));
        if (stray) fail(`partition ${stray.name} is not named after ${start.table}`);
        current = { table: start.table, rows: 0 };
        yield { kind: "table", table: start.table, partitions: start.partitions };
        continue;
      }
      const end = parseControl(tableEnd, line);
      if (end) {
        if (!current || current.table !== end.end) fail(`unexpected end of ${end.end}`);
        const open = current as { table: string; rows: number };
        if (open.rows !== end.rows)
          fail(`${end.end} holds ${open.rows} rows, expected ${end.rows}`);
        if (batch.length > 0) yield { kind: "rows", table: open.table, lines: batch };
        batch = [];
        counts[open.table] = open.rows;
        yield { kind: "end", table: open.table, rows: open.rows };
        current = null;
        continue;
      }
      const last = parseControl(backupTrailer, line);
      if (!last || current) fail("an unreadable control line");
      trailer = (last as z.infer<typeof backupTrailer>).tables;
      if (JSON.stringify(sortKeys(trailer)) !== JSON.stringify(sortKeys(counts))) {
        fail("the trailer's row counts disagree with the tables");
      }
      yield { kind: "trailer", tables: trailer };
    }
  } catch (error) {
    if (error instanceof InvalidBackup) throw error;
    throw new InvalidBackup(`${file}: unreadable (${(error as Error).message})`);
  }
  if (!header) fail("empty file");
  if (!trailer) fail("cut short (no end-of-backup record)");
}

const sortKeys = (o: Record<string, number>) =>
  Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));

/**
 * Checks a backup against its metadata without touching a database: the
 * checksum, a complete read of the (gzip) stream, and every table present
 * with the row count the metadata promises.
 */
export async function validateBackup(file: string, metadata: BackupMetadata): Promise<void> {
  const actual = await sha256OfFile(file);
  if (actual !== metadata.sha256) {
    throw new InvalidBackup(
      `${file}: checksum mismatch (file ${actual}, metadata ${metadata.sha256})`,
    );
  }
  let header: BackupHeader | null = null;
  let tables: Record<string, number> = {};
  for await (const record of readBackup(file, 5000)) {
    if (record.kind === "header") header = record.header;
    if (record.kind === "trailer") tables = record.tables;
  }
  if (JSON.stringify(header?.migrations) !== JSON.stringify(metadata.migrations)) {
    throw new InvalidBackup(`${file}: schema version differs from its metadata`);
  }
  if (JSON.stringify(sortKeys(tables)) !== JSON.stringify(sortKeys(metadata.tables))) {
    throw new InvalidBackup(`${file}: tables or row counts differ from its metadata`);
  }
}
