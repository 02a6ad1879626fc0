import { z } from "zod";
import { hasCode } from "../errors.ts";
import { lazyTokenCipher } from "../keys/token-encryption.ts";
import { commandLineActor } from "../users/bootstrap.ts";
import {
  addWebhookEndpoint,
  removeWebhookEndpointAudited,
  toEndpointView,
  webhookEndpointBody,
  webhookEndpoints,
} from "../webhooks/endpoints.ts";
import { webhookEventTypes } from "../webhooks/events.ts";
import { type CliCommand, CliError, output, withDatabase } from "./command.ts";

const help = `usage: gatehouse webhooks <add URL EVENT[,EVENT...] | list | remove ID> [--json]

  add URL EVENTS   add an endpoint for the comma-separated events; prints its
                   signing secret (whsec_...), which is shown this once
  list             every endpoint (never the secrets)
  remove ID        delete an endpoint and its delivery log

Events: ${webhookEventTypes.join(", ")}.
The URL must be https in production and may not be a loopback, link-local
or private address unless WEBHOOK_ALLOW_PRIVATE=true. Changes are audited
as admin.webhook_added / admin.webhook_removed.`;

type EndpointView = ReturnType<typeof toEndpointView>;
const line = (e: EndpointView) => `${e.id}  ${e.url}  ${e.events.join(",")}`;

/** A refusal of the input as one line: which field, and why. */
function inputError(error: unknown): never {
  if (hasCode(error, "validation_failed")) {
    const reasons = (error.details.errors ?? []).map((e) => e.detail).join("; ");
    throw new CliError(`endpoint not added: ${reasons}`);
  }
  throw error;
}

export const webhooksCommand: CliCommand = {
  summary: "manage webhook endpoints: webhooks add URL EVENTS | list | remove ID",
  help,
  run: async ({ positionals, json }) => {
    const [action, ...args] = positionals;
    switch (action) {
      case "add": {
        const [url, events, ...extra] = args;
        if (!url || !events || extra.length > 0) {
          throw new CliError("webhooks add needs URL EVENT[,EVENT...]");
        }
        const parsed = webhookEndpointBody.safeParse({ url, events: events.split(",") });
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          throw new CliError(
            issue?.path[0] === "events"
              ? `unknown or repeated event in '${events}' (${webhookEventTypes.join(", ")})`
              : `invalid URL '${url}'`,
          );
        }
        const { endpoint, secret } = await withDatabase(
          ({ config, db, logger }) =>
            addWebhookEndpoint(
              { pool: db.pool, logger, config, tokenCipher: lazyTokenCipher(config, logger) },
              commandLineActor(),
              parsed.data,
            ).catch(inputError),
          { migrate: true },
        );
        const view = toEndpointView(endpoint);
        output(json, { ...view, secret }, () => `added ${line(view)}\nsecret ${secret}`);
        return 0;
      }
      case "list": {
        if (args.length > 0) throw new CliError("webhooks list takes no arguments");
        const endpoints = (
          await withDatabase(({ db }) => webhookEndpoints(db.pool), { migrate: true })
        ).map(toEndpointView);
        output(json, endpoints, () =>
          endpoints.length === 0 ? "no webhook endpoints" : endpoints.map(line).join("\n"),
        );
        return 0;
      }
      case "remove": {
        const [id, ...extra] = args;
        if (!id || extra.length > 0) throw new CliError("webhooks remove needs exactly one ID");
        if (!z.uuid().safeParse(id).success)
          throw new CliError(`no webhook endpoint with id ${id}`);
        const removed = await withDatabase(
          ({ db, logger }) =>
            removeWebhookEndpointAudited({ pool: db.pool, logger }, commandLineActor(), id),
          { migrate: true },
        ).catch((error: Error) => {
          if (hasCode(error, "webhook_not_found")) {
            throw new CliError(`no webhook endpoint with id ${id}`);
          }
          throw error;
        });
        const view = toEndpointView(removed);
        output(json, view, () => `removed ${line(view)}`);
        return 0;
      }
      default:
        throw new CliError("webhooks needs add, list or remove (see gatehouse webhooks --help)");
    }
  },
};
