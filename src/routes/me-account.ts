import { Hono } from "hono";
import type { DatabasePool } from "slonik";
import { z } from "zod";
import { listLinkedAccountsOfUser } from "../../sql/oauth-accounts.ts";
import { type Config, oauthProviderNames } from "../config/index.ts";
import type { AppEnv, Principal } from "../http/app-env.ts";
import { requestAuditFields } from "../http/audit-fields.ts";
import { requireGated } from "../http/gate.ts";
import { readBody } from "../http/json-body.ts";
import type { ApiRoute } from "../http/openapi.ts";
import { Problem } from "../http/problem.ts";
import { refusalsAsProblems } from "../http/refusal-problem.ts";
import { clearSessionCookie } from "../http/session-cookie.ts";
import { isPrintableText } from "../http/text-input.ts";
import type { Logger } from "../logger.ts";
import { deleteAccount } from "../users/deletion.ts";
import {
  assertRecentSignIn,
  exportAccount,
  unlinkProvider,
  updateProfile,
} from "../users/self-service.ts";
import { toMeResponse } from "../users/user-view.ts";

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

const providerParam = z.enum([...oauthProviderNames, "oidc"]);

const userIdOf = (c: { get: (k: "principal") => Principal | null }) =>
  c.get("principal")?.user.user_id ?? "";

export function meAccountRoutes(deps: {
  config: Pick<Config, "http" | "session">;
  pool: DatabasePool;
  logger: Logger;
}) {
  const { config, pool } = deps;
  const app = new Hono<AppEnv>();

  app.patch("/me", requireGated(), async (c) => {
    const body = await readBody(c, profileBody);
    const user = await refusalsAsProblems(
      updateProfile(
        deps,
        userIdOf(c),
        { fullName: body.full_name, username: body.username, avatarUrl: body.avatar_url },
        requestAuditFields(c),
      ),
    );
    return c.json(toMeResponse(user));
  });

  app.get("/me/accounts", requireGated(), async (c) => {
    const accounts = await listLinkedAccountsOfUser(pool, userIdOf(c));
    return c.json({
      accounts: accounts.map((a) => ({
        provider: a.provider,
        email: a.email,
        email_verified: a.email_verified,
        created_at: a.created_at.toISOString(),
      })),
    });
  });

  app.delete("/me/accounts/:provider", requireGated(), async (c) => {
    const provider = providerParam.safeParse(c.req.param("provider"));
    if (!provider.success) throw new Problem(404, "Not Found", "No such provider is linked.");
    await refusalsAsProblems(
      unlinkProvider(deps, userIdOf(c), provider.data, requestAuditFields(c)),
    );
    return c.body(null, 204);
  });

  app.get("/me/export", requireGated(), async (c) => {
    const data = await refusalsAsProblems(exportAccount(deps, userIdOf(c), requestAuditFields(c)));
    c.header("content-disposition", 'attachment; filename="gatehouse-export.json"');
    c.header("cache-control", "no-store");
    return c.json(data);
  });

  app.delete("/me", requireGated(), async (c) => {
    await refusalsAsProblems(
      assertRecentSignIn(
        pool,
        c.get("principal")?.sessionId ?? null,
        config.session.REAUTH_MAX_AGE,
      ),
    );
    await refusalsAsProblems(
      deleteAccount(deps, {
        userId: userIdOf(c),
        actorId: null,
        ...requestAuditFields(c),
        hard: false,
      }),
    );
    clearSessionCookie(c, config);
    return c.body(null, 204);
  });

  return app;
}

export const meAccountApi: ApiRoute[] = [
  {
    method: "patch",
    path: "/me",
    summary: "Change own profile (full_name, username, https avatar_url)",
    tag: "account",
    access: "gated",
    body: profileBody,
    responses: { 200: { description: "The updated user" }, 409: { description: "Username taken" } },
  },
  {
    method: "get",
    path: "/me/accounts",
    summary: "Linked sign-in providers (never their tokens)",
    tag: "account",
    access: "gated",
    responses: { 200: { description: "The linked providers" } },
  },
  {
    method: "delete",
    path: "/me/accounts/:provider",
    summary: "Unlink a provider (409 when it is the last way to sign in)",
    tag: "account",
    access: "gated",
    responses: {
      204: { description: "Unlinked" },
      404: { description: "No such linked provider" },
      409: { description: "It is the last way to sign in" },
    },
  },
  {
    method: "get",
    path: "/me/export",
    summary: "Everything held about the caller (GDPR export, no secrets)",
    tag: "account",
    access: "gated",
    responses: {
      200: { description: "Profile, linked accounts, sessions, token grants, audit events" },
    },
  },
  {
    method: "delete",
    path: "/me",
    summary: "Delete own account (needs a sign-in within REAUTH_MAX_AGE)",
    tag: "account",
    access: "gated",
    responses: { 204: { description: "Deleted" } },
  },
];
