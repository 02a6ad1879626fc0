import { resolve } from "node:path";
import { createInterface } from "node:readline/promises";
import { parseConfig } from "../config/index.ts";
import { maskDatabaseUrl } from "../logger.ts";
import { InvalidBackup } from "../ops/backup-file.ts";
import { loadBackupSigningKeys } from "../ops/backup-signature.ts";
import { checkBackupForRestore, RestoreRefused, restoreBackup } from "../ops/restore.ts";
import { type CliCommand, CliError, cliLogger, output, withOwnerDatabase } from "./command.ts";
import { progressLine } from "./progress.ts";

const help = `usage: gatehouse restore FILE [--yes] [--trust-unsigned] [--json]

Replaces every row of the service's tables with the backup's, in one
transaction. Refuses a backup that no key of BACKUP_SIGNING_KEYS signed,
whose checksum or contents do not match its metadata (FILE.json), whose
schema is newer than this code, or that holds tables Gatehouse does not own.
The schema is brought to the backup's migration version, the rows loaded, and
the newer migrations applied again, so pgmigrations stays consistent.

  --yes              do not ask for confirmation (needed when stdin is not a terminal)
  --trust-unsigned   restore without checking the signature (a backup made before
                     backups were signed, or signed with a key you no longer have):
                     only for a file whose origin you know`;

async function confirm(question: string): Promise<boolean> {
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await prompt.question(question)).trim());
  } finally {
    prompt.close();
  }
}

export const restoreCommand: CliCommand = {
  summary: "restore a backup into the configured database (refuses a bad one)",
  help,
  options: { yes: { type: "boolean", short: "y" }, "trust-unsigned": { type: "boolean" } },
  run: async ({ values, positionals, json }) => {
    const [given, ...extra] = positionals;
    if (!given || extra.length > 0) throw new CliError("restore needs exactly one FILE");
    const file = resolve(given);
    const trustUnsigned = values["trust-unsigned"] === true;
    const keys = trustUnsigned ? [] : await loadBackupSigningKeys(parseConfig(), cliLogger());
    if (trustUnsigned) {
      console.error("gatehouse: --trust-unsigned: not checking who made this backup");
    }
    const metadata = await checkBackupForRestore(file, { keys, trustUnsigned }).catch(
      (error: Error) => {
        if (error instanceof InvalidBackup || error instanceof RestoreRefused) {
          throw new CliError(`refusing to restore: ${error.message}`);
        }
        throw error;
      },
    );
    const progress = progressLine();
    const tables = await withOwnerDatabase(async ({ db, logger }) => {
      if (values.yes !== true) {
        if (!process.stdin.isTTY) {
          throw new CliError("restore replaces every row: confirm with --yes");
        }
        const ok = await confirm(
          `Replace every row of ${maskDatabaseUrl(db.url)} with ${file} (${metadata.created_at})? [y/N] `,
        );
        if (!ok) throw new CliError("restore cancelled; nothing changed");
      }
      return restoreBackup({
        pool: db.pool,
        databaseUrl: db.url,
        file,
        metadata,
        logger,
        onProgress: progress.update,
      });
    });
    progress.done();
    const rows = Object.values(tables).reduce((a, b) => a + b, 0);
    output(
      json,
      { restored: file, created_at: metadata.created_at, tables },
      () => `restored ${rows} rows in ${Object.keys(tables).length} tables from ${file}`,
    );
    return 0;
  },
};
