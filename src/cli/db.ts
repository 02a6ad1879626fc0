import {
  applyRuntimeRole,
  defaultRuntimeRole,
  runtimeRoleNameProblem,
  runtimeRoleScript,
} from "../db/runtime-role.ts";
import { type CliCommand, CliError, output, withOwnerDatabase } from "./command.ts";

const help = `usage: gatehouse db roles [--role NAME] [--nologin] [--apply [--password]] [--json]

  roles       print the SQL that creates the service's runtime role: SELECT,
              INSERT, UPDATE, DELETE on every table, sequence usage, EXECUTE
              on the schema's functions, the same for what later migrations
              create, and no right to change the schema. Run it as the role
              that owns the schema, after the migrations.
  --role NAME     the role's name (default ${defaultRuntimeRole})
  --nologin       a group role to grant to login roles of your own
  --apply         run it now, as DATABASE_MIGRATION_URL (else DATABASE_URL),
                  in one transaction; an existing role is granted to and checked
  --password      with --apply: give the role a new random password and print
                  the DATABASE_URL that uses it (the server sees only a
                  SCRAM verifier, never the password)

Then run the service with DATABASE_URL as that role and DATABASE_MIGRATION_URL
as the owner (or MIGRATE_ON_START=false and \`gatehouse migrate up\` as the owner).`;

export const dbCommand: CliCommand = {
  summary: "database roles: db roles prints or applies the runtime role's SQL",
  help,
  options: {
    role: { type: "string" },
    nologin: { type: "boolean" },
    apply: { type: "boolean" },
    password: { type: "boolean" },
  },
  run: async ({ positionals, values, json }) => {
    const [action, ...extra] = positionals;
    if (action !== "roles" || extra.length > 0) {
      throw new CliError("db needs roles (see gatehouse db --help)");
    }
    const role = typeof values.role === "string" ? values.role : defaultRuntimeRole;
    const nameProblem = runtimeRoleNameProblem(role);
    if (nameProblem) throw new CliError(`--role: ${nameProblem}`);
    const login = values.nologin !== true;
    const setPassword = values.password === true;
    if (setPassword && values.apply !== true) throw new CliError("--password needs --apply");
    if (setPassword && !login) throw new CliError("--password makes no sense with --nologin");

    if (values.apply !== true) {
      const script = runtimeRoleScript(role, { login });
      output(json, { role, login, applied: false, sql: script }, () => script.trimEnd());
      return 0;
    }
    const result = await withOwnerDatabase(
      ({ config, db }) =>
        applyRuntimeRole(db.pool, {
          role,
          login,
          setPassword,
          // As configured (the CA file stays a setting of its own), else the embedded server's.
          ownerUrl:
            config.database.DATABASE_MIGRATION_URL ?? config.database.DATABASE_URL ?? db.ownerUrl,
        }),
      { migrate: true },
    );
    const data = {
      role,
      login,
      applied: true,
      created: result.created,
      ...(result.databaseUrl ? { database_url: result.databaseUrl } : {}),
    };
    output(json, data, () =>
      [
        `${result.created ? "created" : "granted to the existing"} role ${role}: rows of every table, no schema changes`,
        ...(result.databaseUrl
          ? [`DATABASE_URL=${result.databaseUrl}`]
          : login
            ? [`give it a password with --password, or in psql: \\password ${role}`]
            : []),
      ].join("\n"),
    );
    return 0;
  },
};
