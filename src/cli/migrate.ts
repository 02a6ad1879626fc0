import { createMigrationFile, migrationNamesOnDisk, runMigrations } from "../db/migrations.ts";
import { migrationStatus } from "../ops/migration-status.ts";
import { type CliCommand, CliError, output, withOwnerDatabase } from "./command.ts";

const help = `usage: gatehouse migrate <up | down [N] | status | create NAME> [--json]

  up          apply every pending migration
  down [N]    revert the last N migrations (default 1; 'all' reverts every one)
  status      applied and pending migrations
  create NAME write an empty migrations/<timestamp>_NAME.sql

Runs take a PostgreSQL advisory lock, so two at once never interleave.`;

export const migrateCommand: CliCommand = {
  summary: "apply, revert, list or create schema migrations",
  help,
  run: async ({ positionals, json }) => {
    const [action, argument] = positionals;
    switch (action) {
      case "up":
      case "down": {
        const count = action === "up" ? undefined : parseCount(argument);
        const names = await withOwnerDatabase(({ db, logger }) =>
          runMigrations({ databaseUrl: db.ownerUrl, direction: action, count, logger }),
        );
        output(json, { direction: action, migrations: names }, () =>
          names.length === 0
            ? "nothing to do"
            : names.map((n) => `${action === "up" ? "applied " : "reverted"} ${n}`).join("\n"),
        );
        return 0;
      }
      case "status": {
        const onDisk = await migrationNamesOnDisk();
        const { applied, pending } = await withOwnerDatabase(({ db }) =>
          migrationStatus(db.pool, onDisk),
        );
        output(
          json,
          { applied: applied.map((m) => ({ name: m.name, run_on: m.run_on })), pending },
          () =>
            [
              ...applied.map((m) => `applied  ${m.name}  (${m.run_on.toISOString()})`),
              ...pending.map((n) => `pending  ${n}`),
              `${applied.length} applied, ${pending.length} pending`,
            ].join("\n"),
        );
        return 0;
      }
      case "create": {
        if (!argument) throw new CliError("migrate create needs a NAME");
        const path = await createMigrationFile(argument).catch((error: Error) => {
          throw new CliError(error.message);
        });
        output(json, { path }, () => `created ${path}`);
        return 0;
      }
      default:
        throw new CliError(
          `migrate needs up, down, status or create (see gatehouse migrate --help)`,
        );
    }
  },
};

function parseCount(argument: string | undefined): number {
  if (argument === undefined) return 1;
  if (argument === "all") return Number.POSITIVE_INFINITY;
  if (!/^\d+$/.test(argument) || Number(argument) < 1) {
    throw new CliError(`migrate down takes a positive number or 'all', not '${argument}'`);
  }
  return Number(argument);
}
