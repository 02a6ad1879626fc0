import type { DatabasePool } from "slonik";
import { DomainError } from "../errors.ts";
import { ApiRoutes, operationsOf } from "../http/api-route.ts";
import type { CredentialCache } from "../sessions/credential-cache.ts";
import { meResponse, ownUserView } from "../users/user-view.ts";

const accountOperation = operationsOf({ tag: "account", access: "signed-in" });

export function meRoutes({
  pool,
  credentialCache,
}: {
  pool: DatabasePool;
  credentialCache?: CredentialCache | undefined;
}) {
  const routes = new ApiRoutes();

  // Readable by a signed-in user awaiting approval too: it is how they learn they are pending.
  routes.add(
    accountOperation("GET /me", "getMe", {
      summary: "The signed-in user, including is_whitelisted and status",
      responses: {
        200: { description: "The user", body: meResponse },
        401: { description: "Not signed in" },
      },
    }),
    async (c) => {
      const principal = c.get("principal");
      const view = await ownUserView(pool, principal?.user.user_id ?? "", credentialCache);
      if (!view || !principal) throw new DomainError("not_signed_in");
      return c.json({ ...view, amr: principal.user.amr });
    },
  );

  return routes;
}
