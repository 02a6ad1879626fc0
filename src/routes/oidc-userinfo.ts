import type { Context } from "hono";
import type { DatabasePool } from "slonik";
import { z } from "zod";
import type { Config } from "../config/index.ts";
import { DomainError } from "../errors.ts";
import { ApiRoutes, operationsOf } from "../http/api-route.ts";
import type { AppEnv } from "../http/app-env.ts";
import { userinfoPath } from "../oidc/token-exchange.ts";
import { userinfoOf } from "../oidc/userinfo.ts";
import type { AccessTokens } from "../tokens/access-tokens.ts";
import { bearerTokenOf } from "../tokens/bearer.ts";

// OpenID Connect userinfo: the claims a relying party's access token
// releases, by GET or POST (Core §5.3.1), answering problems like the API.

const openidOperation = operationsOf({ tag: "openid", access: "anyone" });

const userinfoResponse = z
  .object({
    sub: z.string(),
    email: z.string().optional(),
    email_verified: z.boolean().optional(),
    name: z.string().optional(),
    preferred_username: z.string().optional(),
    picture: z.string().optional(),
    groups: z.array(z.string()).optional(),
    acr: z
      .string()
      .optional()
      .meta({ description: "When the claims parameter asked userinfo for it" }),
  })
  .meta({ id: "UserInfo", description: "The claims the access token's scopes release" });

export function oidcUserinfoRoutes(deps: {
  config: Pick<Config, "http">;
  pool: DatabasePool;
  accessTokens: AccessTokens;
}) {
  const audience = `${deps.config.http.PUBLIC_URL}${userinfoPath}`;
  const routes = new ApiRoutes();

  const userinfo = async (c: Context<AppEnv>) => {
    const token = bearerTokenOf(c.req.header("authorization"));
    if (!token) throw new DomainError("invalid_token");
    c.header("cache-control", "no-store");
    return c.json(await userinfoOf(deps, token, audience));
  };
  const userinfoDeclaration = {
    summary: "OpenID Connect userinfo: the claims the access token's scopes release",
    responses: {
      200: { description: "The user's claims", body: userinfoResponse },
      401: { description: "No, or an invalid, expired or revoked, relying party's access token" },
    },
  };
  routes.add(openidOperation("GET /oauth2/userinfo", "getUserInfo", userinfoDeclaration), userinfo);
  routes.add(
    openidOperation("POST /oauth2/userinfo", "postUserInfo", userinfoDeclaration),
    userinfo,
  );

  return routes;
}
