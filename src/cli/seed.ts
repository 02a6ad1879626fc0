import { parseConfig } from "../config/index.ts";
import { loadEncryptionKeys } from "../keys/token-encryption.ts";
import { SeedRefused, seedDevelopmentData } from "../ops/seed.ts";
import { type CliCommand, CliError, output, withDatabase } from "./command.ts";

const help = `usage: gatehouse seed [--json]

Writes development data covering every user state (active, unverified,
pending approval, inactive, locked, deleted, admin; password, GitHub and
Google users with encrypted provider tokens), sessions, refresh and
verification tokens, allowlist rules and two months of audit events.
Refuses when NODE_ENV=production. A second run changes nothing. The
passwords of the seeded users are printed once, on the run that creates them.`;

export const seedCommand: CliCommand = {
  summary: "write development data covering every user state (never in production)",
  help,
  run: async ({ positionals, json }) => {
    if (positionals.length > 0) throw new CliError("seed takes no arguments");
    // Refuse before touching the database (or starting an embedded one).
    if (parseConfig().runtime.NODE_ENV === "production") {
      throw new CliError("seed writes fake users and refuses to run with NODE_ENV=production");
    }
    const report = await withDatabase(
      async ({ config, db, logger }) =>
        seedDevelopmentData({
          pool: db.pool,
          nodeEnv: config.runtime.NODE_ENV,
          keys: await loadEncryptionKeys(config, logger),
        }),
      { migrate: true },
    ).catch((error: Error) => {
      if (error instanceof SeedRefused) throw new CliError(error.message);
      throw error;
    });
    output(json, report, () =>
      report.seeded
        ? [
            `seeded ${report.users} users with sessions, tokens, allowlist rules and audit events`,
            "passwords (shown once):",
            ...report.passwords.map((p) => `  ${p.email.padEnd(28)} ${p.password}`),
          ].join("\n")
        : "already seeded: nothing changed",
    );
    return 0;
  },
};
