import { type Context, Hono } from "hono";
import { z } from "zod";
import { DomainError } from "../../errors.ts";
import { actorOf } from "../../http/admin-request.ts";
import type { AppEnv } from "../../http/app-env.ts";
import { errorMessage } from "../../http/error-map.ts";
import { readBody } from "../../http/json-body.ts";
import { assertRecentAuthOf } from "../../http/recent-auth.ts";
import { usersOfClient } from "../../oidc/apps-with-access.ts";
import {
  addClient,
  clientBody,
  findClient,
  listClients,
  removeClient,
  rotateClientSecret,
  toClientView,
} from "../../oidc/clients.ts";
import type { IdTokens } from "../../oidc/id-tokens.ts";
import type { SignInDeps } from "../../sign-in/complete.ts";
import { ClientSecretShown, ClientsList } from "../admin/clients.tsx";
import { withFlash } from "../admin/flash.ts";
import { Layout } from "../admin/layout.tsx";
import {
  confirmation,
  confirmedChange,
  confirmScreen,
  flashOf,
  frameOf,
  notFoundScreen,
  requireAdminPage,
} from "./answers.tsx";

// The console's OpenID Connect clients: the list, registering one and
// rotating its secret (the secret shown once), and removal.

export function adminClientScreens(deps: SignInDeps & { idTokens: Pick<IdTokens, "algs"> }) {
  const { pool } = deps;
  const app = new Hono<AppEnv>();

  app.get("/admin/view/clients", requireAdminPage(), async (c) => {
    const clients = await listClients(pool);
    return c.html(
      <Layout title="Clients" frame={await frameOf(c, pool, "clients")} {...flashOf(c)}>
        <ClientsList clients={clients.map(toClientView)} algs={deps.idTokens.algs} />
      </Layout>,
    );
  });

  app.post("/admin/forms/clients", requireAdminPage(), async (c) => {
    const form = await c.req.formData().catch(() => null);
    const lines = (name: string) =>
      String(form?.get(name) ?? "")
        .split(/\r?\n/)
        .map((line) => line.trim())
        .filter((line) => line !== "");
    const input = clientBody.safeParse({
      name: form?.get("name"),
      redirect_uris: lines("redirect_uris"),
      post_logout_redirect_uris: lines("post_logout_redirect_uris"),
      allowed_scopes: form?.getAll("allowed_scopes"),
      public: form?.get("public") === "yes",
      first_party: form?.get("first_party") === "yes",
      id_token_signed_response_alg: form?.get("id_token_signed_response_alg") || undefined,
      backchannel_logout_uri: form?.get("backchannel_logout_uri") || undefined,
    });
    if (!input.success) {
      return c.redirect(withFlash("/admin/view/clients", { error: "validation_failed" }), 303);
    }
    return secretShownOnce(c, false, async () =>
      addClient(deps, actorOf(c), input.data, deps.idTokens.algs),
    );
  });

  app.post("/admin/forms/clients/:id/secret", requireAdminPage(), async (c) => {
    await readBody(c, z.object({}));
    return secretShownOnce(c, true, () => rotateClientSecret(deps, actorOf(c), c.req.param("id")));
  });

  /** Runs a change that makes a secret and answers the page showing it, this once. */
  async function secretShownOnce(
    c: Context<AppEnv>,
    rotated: boolean,
    change: () => Promise<{ client: Parameters<typeof toClientView>[0]; secret: string | null }>,
  ) {
    try {
      await assertRecentAuthOf(c);
      const { client, secret } = await change();
      // The secret must not outlive this page in any cache.
      c.header("cache-control", "no-store");
      return c.html(
        <Layout
          title={rotated ? "Secret rotated" : "Client registered"}
          frame={await frameOf(c, pool, "clients")}
        >
          <ClientSecretShown client={toClientView(client)} secret={secret} rotated={rotated} />
        </Layout>,
      );
    } catch (error) {
      if (error instanceof DomainError) {
        return c.redirect(withFlash("/admin/view/clients", { error: error.code }), 303);
      }
      throw error;
    }
  }

  app.get("/admin/view/clients/:id/remove", requireAdminPage(), async (c) => {
    const client = await findClient(pool, c.req.param("id"));
    if (!client) return notFoundScreen(c, pool, errorMessage("client_not_found"));
    const users = await usersOfClient(pool, client.id);
    return confirmScreen(c, pool, "clients", {
      subject: `${client.name} (${client.id})`,
      question: "Remove the client",
      consequence: `It can no longer sign anyone in: its users (${users} now, who allowed it or are signed in to it) are signed out of it at once (its sessions, refresh tokens and codes end) and their consents are deleted. Registering it again gives a new client ID.`,
      button: "Remove client",
      action: `/admin/forms/clients/${client.id}/remove`,
      fields: {},
      cancelHref: "/admin/view/clients",
    });
  });

  app.post("/admin/forms/clients/:id/remove", requireAdminPage(), (c) =>
    confirmedChange(
      c,
      confirmation,
      {
        confirmHref: (id) => `/admin/view/clients/${id}/remove`,
        back: "/admin/view/clients",
        notice: "client_removed",
        missing: "client_not_found",
      },
      (id) => removeClient(deps, actorOf(c), id),
    ),
  );

  return app;
}
