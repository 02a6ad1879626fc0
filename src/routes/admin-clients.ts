import type { DatabasePool } from "slonik";
import { z } from "zod";
import { actorOf } from "../http/admin-request.ts";
import { ApiRoutes, operationsOf } from "../http/api-route.ts";
import { readBody } from "../http/json-body.ts";
import type { Logger } from "../logger.ts";
import {
  addClient,
  clientBody,
  listClients,
  removeClient,
  rotateClientSecret,
  toClientView,
} from "../oidc/clients.ts";
import { type IdTokens, idTokenAlgorithms } from "../oidc/id-tokens.ts";
import { supportedScopes } from "../oidc/scopes.ts";

const adminOperation = operationsOf({ tag: "admin", access: "admin" });

const clientResponse = z
  .object({
    client_id: z.uuid(),
    name: z.string(),
    redirect_uris: z.array(z.string()),
    post_logout_redirect_uris: z.array(z.string()),
    public: z.boolean(),
    first_party: z.boolean(),
    allowed_scopes: z.array(z.enum(supportedScopes)),
    id_token_signed_response_alg: z.enum(idTokenAlgorithms),
    backchannel_logout_uri: z.string().nullable(),
    created_at: z.iso.datetime(),
  })
  .meta({ id: "OAuthClient", description: "An OpenID Connect relying party" });

const clientWithSecret = clientResponse.extend({
  client_secret: z
    .string()
    .nullable()
    .meta({ description: "Shown this once (null for a public client); only its hash is kept" }),
});

export function adminClientRoutes(deps: {
  pool: DatabasePool;
  logger: Logger;
  idTokens: Pick<IdTokens, "algs">;
}) {
  const routes = new ApiRoutes();

  routes.add(
    adminOperation("GET /admin/clients", "listOAuthClients", {
      summary: "OpenID Connect clients (relying parties)",
      responses: {
        200: { description: "The clients", body: z.object({ clients: z.array(clientResponse) }) },
      },
    }),
    async (c) => {
      const clients = await listClients(deps.pool);
      return c.json({ clients: clients.map(toClientView) });
    },
  );

  routes.add(
    adminOperation("POST /admin/clients", "addOAuthClient", {
      summary: "Register an OpenID Connect client; a confidential client's secret is shown once",
      body: clientBody,
      responses: {
        201: { description: "The new client", body: clientWithSecret },
        400: {
          description:
            "Invalid input, such as an id_token_signed_response_alg this server does not offer; nothing is written",
        },
      },
    }),
    async (c) => {
      const body = await readBody(c, clientBody);
      const { client, secret } = await addClient(deps, actorOf(c), body, deps.idTokens.algs);
      c.header("cache-control", "no-store");
      return c.json({ ...toClientView(client), client_secret: secret }, 201);
    },
  );

  routes.add(
    adminOperation("POST /admin/clients/:id/secret", "rotateOAuthClientSecret", {
      summary:
        "A confidential client's new secret, shown once; the previous one keeps working for 24 hours",
      responses: {
        200: {
          description: "The client and its new secret",
          body: clientWithSecret.extend({ client_secret: z.string() }),
        },
        404: { description: "No such confidential client" },
      },
    }),
    async (c) => {
      const { client, secret } = await rotateClientSecret(deps, actorOf(c), c.req.param("id"));
      c.header("cache-control", "no-store");
      return c.json({ ...toClientView(client), client_secret: secret });
    },
  );

  routes.add(
    adminOperation("DELETE /admin/clients/:id", "removeOAuthClient", {
      summary: "Remove a client: its codes, consents, sessions and tokens end with it",
      responses: { 204: { description: "Removed" }, 404: { description: "No such client" } },
    }),
    async (c) => {
      await removeClient(deps, actorOf(c), c.req.param("id"));
      return c.body(null, 204);
    },
  );

  return routes;
}
