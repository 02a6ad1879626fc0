import { hasCode } from "../errors.ts";
import {
  addClient,
  type ClientView,
  clientBody,
  listClients,
  removeClient,
  rotateClientSecret,
  toClientView,
} from "../oidc/clients.ts";
import { offeredIdTokenAlgorithms } from "../oidc/id-tokens.ts";
import { commandLineActor } from "../users/bootstrap.ts";
import { type CliCommand, CliError, type CliInput, output, withDatabase } from "./command.ts";

const help = `usage: gatehouse clients <add NAME --redirect-uri URI... | list | remove ID | rotate-secret ID> [--json]

  add NAME              register an OpenID Connect client (relying party):
    --redirect-uri URI    where codes may be sent (exact match; repeat for more; required)
    --post-logout-redirect-uri URI
                          where RP-initiated logout may send the browser (repeatable)
    --public              no secret (single-page or native app); PKCE S256 required
    --first-party         trusted: users are not asked for consent
    --scope SCOPE         allowed scopes (repeatable; default: openid email profile groups offline_access)
    --id-token-signed-response-alg ALG
                          how its ID tokens are signed: RS256 (default), or EdDSA or ES256
                          when JWT_SIGNING_KEYS has such a key (see the discovery document)
    --backchannel-logout-uri URI
                          where a signed logout token is POSTed when a user of the
                          client signs out (OpenID Connect Back-Channel Logout)
                        Prints client_id and, for a confidential client, client_secret:
                        shown this once, stored hashed.
  list                  every client (never a secret)
  remove ID             remove a client: its codes, consents, sessions and tokens end with it
  rotate-secret ID      a new secret, shown once; the previous one works for 24 more hours

The provider's settings for the client are at <PUBLIC_URL>/.well-known/openid-configuration.
Changes are audited as admin.client_added / admin.client_removed / admin.client_secret_rotated.`;

const line = (c: ClientView) =>
  `${c.client_id}  ${c.public ? "public      " : "confidential"}  ${c.first_party ? "first-party" : "third-party"}  ${c.name}  ${c.redirect_uris.join(" ")}`;

const strings = (value: CliInput["values"][string]): string[] =>
  (Array.isArray(value) ? value : value === undefined ? [] : [value]).filter(
    (v): v is string => typeof v === "string",
  );

export const clientsCommand: CliCommand = {
  summary: "manage OpenID Connect clients: clients add NAME --redirect-uri URI | list | remove ID",
  help,
  options: {
    "redirect-uri": { type: "string", multiple: true },
    "post-logout-redirect-uri": { type: "string", multiple: true },
    public: { type: "boolean" },
    "first-party": { type: "boolean" },
    scope: { type: "string", multiple: true },
    "id-token-signed-response-alg": { type: "string" },
    "backchannel-logout-uri": { type: "string" },
  },
  run: async ({ positionals, values, json }) => {
    const [action, ...args] = positionals;
    switch (action) {
      case "add": {
        const [name, ...extra] = args;
        if (!name || extra.length > 0) throw new CliError("clients add needs exactly one NAME");
        const scopes = strings(values.scope);
        const [alg] = strings(values["id-token-signed-response-alg"]);
        const [backchannel] = strings(values["backchannel-logout-uri"]);
        const parsed = clientBody.safeParse({
          name,
          redirect_uris: strings(values["redirect-uri"]),
          post_logout_redirect_uris: strings(values["post-logout-redirect-uri"]),
          public: values.public === true,
          first_party: values["first-party"] === true,
          ...(scopes.length > 0 ? { allowed_scopes: scopes } : {}),
          ...(alg !== undefined ? { id_token_signed_response_alg: alg } : {}),
          ...(backchannel !== undefined ? { backchannel_logout_uri: backchannel } : {}),
        });
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          const field = String(issue?.path[0] ?? "input").replaceAll("_", "-");
          throw new CliError(`invalid ${field}: ${issue?.message ?? "invalid"}`);
        }
        const { client, secret } = await withDatabase(
          ({ config, db, logger }) =>
            addClient(
              { pool: db.pool, logger },
              commandLineActor(),
              parsed.data,
              offeredIdTokenAlgorithms(config),
            ),
          { migrate: true },
        ).catch((error: Error) => {
          if (hasCode(error, "validation_failed")) {
            throw new CliError(`invalid id-token-signed-response-alg: ${error.message}`);
          }
          throw error;
        });
        const view = { ...toClientView(client), client_secret: secret };
        output(json, view, () =>
          [
            `added ${line(view)}`,
            `client_id:     ${view.client_id}`,
            ...(secret ? [`client_secret: ${secret}   (shown this once: store it now)`] : []),
          ].join("\n"),
        );
        return 0;
      }
      case "list": {
        if (args.length > 0) throw new CliError("clients list takes no arguments");
        const clients = (
          await withDatabase(({ db }) => listClients(db.pool), { migrate: true })
        ).map(toClientView);
        output(json, clients, () =>
          clients.length === 0 ? "no clients" : clients.map(line).join("\n"),
        );
        return 0;
      }
      case "remove":
      case "rotate-secret": {
        const [id, ...extra] = args;
        if (!id || extra.length > 0) throw new CliError(`clients ${action} needs exactly one ID`);
        const result = await withDatabase(
          async ({ db, logger }) => {
            const deps = { pool: db.pool, logger };
            if (action === "remove") {
              return { client: await removeClient(deps, commandLineActor(), id), secret: null };
            }
            return rotateClientSecret(deps, commandLineActor(), id);
          },
          { migrate: true },
        ).catch((error: Error) => {
          if (hasCode(error, "client_not_found")) {
            throw new CliError(
              action === "remove"
                ? `no client with id ${id}`
                : `no confidential client with id ${id}`,
            );
          }
          throw error;
        });
        const view = toClientView(result.client);
        if (action === "remove") {
          output(json, view, () => `removed ${line(view)}`);
        } else {
          output(json, { ...view, client_secret: result.secret }, () =>
            [
              `new secret for ${line(view)}`,
              `client_secret: ${result.secret}   (shown this once; the previous one works for 24 more hours)`,
            ].join("\n"),
          );
        }
        return 0;
      }
      default:
        throw new CliError(
          "clients needs add, list, remove or rotate-secret (see gatehouse clients --help)",
        );
    }
  },
};
