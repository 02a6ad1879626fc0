import { resolve } from "node:path";
import { parseConfig } from "../config/index.ts";
import { createBackup } from "../ops/backup.ts";
import { loadBackupSigningKeys } from "../ops/backup-signature.ts";
import { type CliCommand, cliLogger, output, withDatabase } from "./command.ts";
import { progressLine } from "./progress.ts";

const help = `usage: gatehouse backup [--dir DIR] [--no-compress] [--no-validate] [--json]

Writes a consistent snapshot of the database (one REPEATABLE READ transaction)
to DIR (default BACKUP_DIR, .data/backups) as gatehouse-<time>.jsonl.gz, with
<file>.json beside it: time, size, PostgreSQL version, schema version, tables
and row counts, SHA-256, the database URL with its password masked, and an
HMAC-SHA256 under the first key of BACKUP_SIGNING_KEYS (restore checks it).

  --dir DIR       write into DIR instead of BACKUP_DIR
  --no-compress   plain JSON lines instead of gzip
  --no-validate   skip reading the file back (checksum, gzip, every table's rows)`;

export const backupCommand: CliCommand = {
  summary: "write a validated, compressed backup with its metadata",
  help,
  options: {
    dir: { type: "string" },
    "no-compress": { type: "boolean" },
    "no-validate": { type: "boolean" },
  },
  run: async ({ values, json }) => {
    // Before connecting: production without a signing key stops here.
    const [signingKey] = await loadBackupSigningKeys(parseConfig(), cliLogger());
    if (!signingKey) throw new Error("no backup signing key");
    const progress = progressLine();
    const { path, metadata } = await withDatabase(async ({ config, db }) => {
      const dir = resolve(typeof values.dir === "string" ? values.dir : config.ops.BACKUP_DIR);
      const metadata = await createBackup({
        pool: db.pool,
        databaseUrl: db.url,
        dir,
        compress: values["no-compress"] !== true,
        validate: values["no-validate"] !== true,
        signingKey,
        onProgress: progress.update,
      });
      return { path: resolve(dir, metadata.file), metadata };
    });
    progress.done();
    const rows = Object.values(metadata.tables).reduce((a, b) => a + b, 0);
    output(json, { path, ...metadata }, () =>
      [
        `backup written: ${path}`,
        `  ${metadata.size_bytes} bytes, ${rows} rows in ${Object.keys(metadata.tables).length} tables, schema ${metadata.schema_version ?? "(none)"}`,
        `  sha256 ${metadata.sha256}${metadata.validated ? ", validated" : ", not validated"}, signed with key '${signingKey.id}'`,
      ].join("\n"),
    );
    return 0;
  },
};
