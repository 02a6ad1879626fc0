import { parseArgs } from "node:util";
import { ConfigError } from "../config/index.ts";
import { allowlistCommand } from "./allowlist.ts";
import { backupCommand } from "./backup.ts";
import { backupsCommand } from "./backups.ts";
import { cleanupCommand } from "./cleanup.ts";
import { clientsCommand } from "./clients.ts";
import { type CliCommand, CliError } from "./command.ts";
import { dbCommand } from "./db.ts";
import { healthCommand } from "./health.ts";
import { migrateCommand } from "./migrate.ts";
import { restoreCommand } from "./restore.ts";
import { rotateKeysCommand } from "./rotate-keys.ts";
import { seedCommand } from "./seed.ts";
import { usersCommand } from "./users.ts";
import { webhooksCommand } from "./webhooks.ts";

// `gatehouse <command>`: one file per command, each a CliCommand.

const commands: Record<string, CliCommand> = {
  migrate: migrateCommand,
  backup: backupCommand,
  backups: backupsCommand,
  restore: restoreCommand,
  health: healthCommand,
  cleanup: cleanupCommand,
  "rotate-keys": rotateKeysCommand,
  seed: seedCommand,
  users: usersCommand,
  allowlist: allowlistCommand,
  webhooks: webhooksCommand,
  clients: clientsCommand,
  db: dbCommand,
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length));
  return [
    "usage: gatehouse <command> [options]",
    "",
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    "",
    "Every command takes --help and --json. With no DATABASE_URL the embedded PostgreSQL under DATA_DIR is used.",
  ].join("\n");
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name ? 0 : 1;
  }
  const command = commands[name];
  if (!command) {
    console.error(`gatehouse: unknown command '${name}'\n\n${usage()}`);
    return 1;
  }
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      help: { type: "boolean", short: "h" },
      json: { type: "boolean" },
      ...command.options,
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    console.log(command.help);
    return 0;
  }
  return command.run({ values, positionals, json: values.json === true });
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  // One clear line, no stack trace: bad arguments, bad config, or a failure we named.
  if (
    error instanceof CliError ||
    error instanceof ConfigError ||
    (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")
  ) {
    console.error(`gatehouse: ${(error as Error).message}`);
  } else {
    console.error(`gatehouse: failed: ${(error as Error).message ?? error}`);
  }
  process.exitCode = 1;
}
// Exit explicitly: the embedded PostgreSQL's exit hook (async-exit-hook) turns
// `beforeExit` into process.exit(0), which would swallow the code set above.
process.exit(process.exitCode);
