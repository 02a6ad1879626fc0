import { z } from "zod";
import { hasCode } from "../errors.ts";
import { commandLineActor, grantAdministrator } from "../users/bootstrap.ts";
import { type CliCommand, CliError, output, withDatabase } from "./command.ts";

const help = `usage: gatehouse users grant-admin EMAIL [--json]

  grant-admin EMAIL   make the user with this email an approved administrator
                      (role admin, whitelisted), e.g. the first one. The user
                      must have signed up or signed in once. Running it again
                      changes nothing. Audited as admin.user_updated.`;

const email = z.email();

export const usersCommand: CliCommand = {
  summary: "bootstrap administrators: users grant-admin EMAIL",
  help,
  run: async ({ positionals, json }) => {
    const [action, address, ...extra] = positionals;
    if (action !== "grant-admin") {
      throw new CliError("users needs grant-admin EMAIL (see gatehouse users --help)");
    }
    if (!address || extra.length > 0)
      throw new CliError("users grant-admin needs exactly one EMAIL");
    if (!email.safeParse(address).success)
      throw new CliError(`'${address}' is not an email address`);
    const result = await withDatabase(
      ({ db, logger }) =>
        grantAdministrator({ pool: db.pool, logger }, commandLineActor(), address),
      { migrate: true },
    ).catch((error: Error) => {
      if (hasCode(error, "user_not_found")) {
        throw new CliError(`no user with email ${address} (they must sign up or sign in first)`);
      }
      throw error;
    });
    const { user, changed } = result;
    output(
      json,
      {
        user_id: user.id,
        email: user.email,
        role: user.role,
        is_whitelisted: user.is_whitelisted,
        status: user.status,
        changed,
      },
      () =>
        [
          changed
            ? `${user.email} is now an approved administrator`
            : `${user.email} already was an approved administrator; nothing changed`,
          ...(user.status === "active"
            ? []
            : [`note: the account is ${user.status}; it cannot sign in until it is active again`]),
        ].join("\n"),
    );
    return 0;
  },
};
