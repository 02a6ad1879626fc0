import { resolve } from "node:path";
import { parseConfig } from "../config/index.ts";
import { listBackups } from "../ops/backup-catalog.ts";
import { type CliCommand, output } from "./command.ts";

const help = `usage: gatehouse backups [--dir DIR] [--json]

Lists the backups in DIR (default BACKUP_DIR, .data/backups) with their
metadata, newest first. Needs no database.`;

export const backupsCommand: CliCommand = {
  summary: "list backups with their metadata, newest first",
  help,
  options: { dir: { type: "string" } },
  run: async ({ values, json }) => {
    const dir = resolve(typeof values.dir === "string" ? values.dir : parseConfig().ops.BACKUP_DIR);
    const backups = await listBackups(dir);
    output(
      json,
      backups.map((b) => ({ path: b.path, ...b.metadata })),
      () =>
        backups.length === 0
          ? `no backups in ${dir}`
          : backups
              .map(({ path, metadata: m }) => {
                const rows = Object.values(m.tables).reduce((a, b) => a + b, 0);
                return `${m.created_at}  ${String(m.size_bytes).padStart(10)} B  ${rows} rows  schema ${m.schema_version ?? "-"}  ${path}`;
              })
              .join("\n"),
    );
    return 0;
  },
};
