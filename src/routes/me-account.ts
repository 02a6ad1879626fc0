import type { DatabasePool } from "slonik";
import { z } from "zod";
import type { Config } from "../config/index.ts";
import { DomainError } from "../errors.ts";
import { providerParam } from "../http/account-schemas.ts";
import { ApiRoutes, operationsOf } from "../http/api-route.ts";
import type { Principal } from "../http/app-env.ts";
import { requestAuditFields } from "../http/audit-fields.ts";
import { readBody } from "../http/json-body.ts";

import { clearSessionCookie } from "../http/session-cookie.ts";
import type { Logger } from "../logger.ts";
import { isPrintableText } from "../text-input.ts";
import { deleteAccount } from "../users/deletion.ts";
import { exportAccount, unlinkProvider, updateProfile } from "../users/self-service.ts";
import { linkedAccountsOf } from "../users/user-record.ts";
import { meResponse, toMeResponse } from "../users/user-view.ts";

const accountOperation = operationsOf({ tag: "account", access: "gated" });

// An avatar is shown in other people's browsers: https only, so it can be
// neither mixed content nor a javascript:/data: URL.
const httpsUrl = z.url({ protocol: /^https$/, message: "expected an https:// URL" }).max(2048);

export const profileBody = z
  .strictObject({
    full_name: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .refine(isPrintableText, "Use printable characters only.")
      .nullable(),
    username: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, "1-64 letters, digits, '_', '.' or '-'")
      .nullable(),
    avatar_url: httpsUrl.nullable(),
  })
  .partial();

const linkedAccountResponse = z.object({
  provider: z.string(),
  email: z.string().nullable(),
  email_verified: z.boolean(),
  created_at: z.iso.datetime(),
});

const userIdOf = (c: { get: (k: "principal") => Principal | null }) =>
  c.get("principal")?.user.user_id ?? "";

export function meAccountRoutes(deps: {
  config: Pick<Config, "http" | "session">;
  pool: DatabasePool;
  logger: Logger;
}) {
  const { config, pool } = deps;
  const routes = new ApiRoutes();

  routes.add(
    accountOperation("PATCH /me", "updateMe", {
      summary: "Change own profile (full_name, username, https avatar_url)",
      body: profileBody,
      responses: {
        200: { description: "The updated user", body: meResponse },
        409: { description: "Username taken" },
      },
    }),
    async (c) => {
      const body = await readBody(c, profileBody);
      const user = await updateProfile(
        deps,
        userIdOf(c),
        { fullName: body.full_name, username: body.username, avatarUrl: body.avatar_url },
        requestAuditFields(c),
      );
      return c.json(toMeResponse(user));
    },
  );

  routes.add(
    accountOperation("GET /me/accounts", "listMyLinkedAccounts", {
      summary: "Linked sign-in providers (never their tokens)",
      responses: {
        200: {
          description: "The linked providers",
          body: z.object({ accounts: z.array(linkedAccountResponse) }),
        },
      },
    }),
    async (c) => {
      return c.json({ accounts: await linkedAccountsOf(pool, userIdOf(c)) });
    },
  );

  routes.add(
    accountOperation("DELETE /me/accounts/:provider", "unlinkMyProvider", {
      summary: "Unlink a provider (409 when it is the last way to sign in)",
      responses: {
        204: { description: "Unlinked" },
        404: { description: "No such linked provider" },
        409: { description: "It is the last way to sign in" },
      },
    }),
    async (c) => {
      const provider = providerParam.safeParse(c.req.param("provider"));
      if (!provider.success) throw new DomainError("provider_not_linked");
      await unlinkProvider(deps, userIdOf(c), provider.data, requestAuditFields(c));
      return c.body(null, 204);
    },
  );

  routes.add(
    accountOperation("GET /me/export", "exportMyData", {
      summary: "Everything held about the caller (GDPR export, no secrets)",
      responses: {
        200: {
          description:
            "Profile, linked accounts, passkeys, sessions, token grants, apps with access, audit events",
        },
      },
    }),
    async (c) => {
      const data = await exportAccount(deps, userIdOf(c), requestAuditFields(c));
      c.header("content-disposition", 'attachment; filename="gatehouse-export.json"');
      c.header("cache-control", "no-store");
      return c.json(data);
    },
  );

  routes.add(
    accountOperation("DELETE /me", "deleteMe", {
      summary: "Delete own account (needs a sign-in or step-up within REAUTH_MAX_AGE)",
      recentAuth: true,
      responses: {
        204: { description: "Deleted" },
        409: { description: "The caller is the last administrator" },
      },
    }),
    async (c) => {
      await deleteAccount(deps, {
        userId: userIdOf(c),
        actorId: null,
        ...requestAuditFields(c),
        hard: false,
      });
      clearSessionCookie(c, config);
      return c.body(null, 204);
    },
  );

  return routes;
}
