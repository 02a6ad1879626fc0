import type { Context } from "hono";
import type { DatabasePool } from "slonik";
import { z } from "zod";
import type { Config } from "../config/index.ts";
import { DomainError } from "../errors.ts";
import { ApiRoutes, operationsOf } from "../http/api-route.ts";
import { requestAuditFields } from "../http/audit-fields.ts";
import { invalidRequest, readFields, refusal } from "../http/oauth-answers.ts";
import {
  clientCredentials,
  clientTokenRefusal,
  invalidClientAnswer,
} from "../http/oidc-client-requests.ts";
import type { Logger } from "../logger.ts";
import type { IdTokens } from "../oidc/id-tokens.ts";
import { revokeClientToken } from "../oidc/revocation.ts";
import {
  authenticateClient,
  type ClientTokenResponse,
  redeemAuthorizationCode,
  refreshClientTokens,
  userinfoPath,
} from "../oidc/token-exchange.ts";
import type { AccessTokens } from "../tokens/access-tokens.ts";

// The OpenID provider's back channel: a relying party redeems a code or
// refreshes at the token endpoint, and revokes its tokens (RFC 7009), both
// after client authentication, both answering RFC 6749 errors.

const openidOperation = operationsOf({ tag: "openid", access: "anyone" });

const clientTokenResponse = z
  .object({
    access_token: z.string(),
    token_type: z.literal("Bearer"),
    expires_in: z.number().int(),
    id_token: z.string(),
    scope: z.string(),
    refresh_token: z.string().optional().meta({ description: "With offline_access" }),
  })
  .meta({ id: "OpenIdTokenResponse", description: "OpenID Connect Core §3.1.3.3" });

const clientRevokeRequest = z.object({
  token: z.string().min(1).max(8192),
  token_type_hint: z
    .string()
    .max(64)
    .optional()
    .meta({ description: "Ignored: both kinds are tried" }),
  client_id: z.string().max(64).optional(),
  client_secret: z.string().max(256).optional(),
});

const clientTokenRequest = z.discriminatedUnion("grant_type", [
  z.object({
    grant_type: z.literal("authorization_code"),
    code: z.string().max(256),
    redirect_uri: z.string().max(2048),
    code_verifier: z.string().max(128).optional(),
    client_id: z.string().max(64).optional(),
    client_secret: z.string().max(256).optional(),
  }),
  z.object({
    grant_type: z.literal("refresh_token"),
    refresh_token: z.string().max(512),
    client_id: z.string().max(64).optional(),
    client_secret: z.string().max(256).optional(),
  }),
]);

/**
 * Answers a relying party's back-channel request: its fields read (a body
 * that is neither a form nor JSON is invalid_request), a refusal in
 * RFC 6749 dress.
 */
async function backChannel(
  c: Context,
  run: (fields: Record<string, unknown>) => Promise<Response>,
): Promise<Response> {
  try {
    const read = await readFields(c);
    if ("refused" in read) throw invalidRequest(read.refused);
    return await run(read.fields);
  } catch (error) {
    if (error instanceof DomainError) return refusal(c, error);
    throw error;
  }
}

export function oidcTokenRoutes(deps: {
  config: Pick<Config, "http" | "tokens">;
  pool: DatabasePool;
  logger: Logger;
  accessTokens: AccessTokens;
  idTokens: IdTokens;
}) {
  const { pool } = deps;
  const issuer = deps.config.http.PUBLIC_URL;
  const routes = new ApiRoutes();

  routes.add(
    openidOperation("POST /oauth2/token", "redeemOpenIdGrant", {
      summary:
        "OpenID Connect token endpoint: grant_type=authorization_code (with code_verifier for PKCE) or refresh_token; client_secret_basic, client_secret_post, or none for a public client",
      bodyMediaTypes: ["application/x-www-form-urlencoded", "application/json"],
      body: clientTokenRequest,
      responses: {
        200: {
          description: "Access token, ID token and (offline_access) refresh token",
          body: clientTokenResponse,
        },
        400: clientTokenRefusal("invalid_request, invalid_grant or unsupported_grant_type"),
        401: invalidClientAnswer,
      },
    }),
    (c) =>
      backChannel(c, async (fields) => {
        const text = (name: string, max: number) => {
          const value = fields[name];
          if (value === undefined) return null;
          if (typeof value !== "string" || value.length > max) {
            throw invalidRequest(`${name} must be text of at most ${max} characters.`);
          }
          return value;
        };
        const credentials = clientCredentials(c.req.header("authorization"), {
          clientId: text("client_id", 64),
          secret: text("client_secret", 256),
        });
        const facts = requestAuditFields(c);
        const grantType = text("grant_type", 64);
        if (!grantType) throw invalidRequest("grant_type is required.");
        if (grantType !== "authorization_code" && grantType !== "refresh_token") {
          throw new DomainError("unsupported_grant_type", {
            detail: "grant_type must be authorization_code or refresh_token.",
          });
        }
        const client = await authenticateClient(pool, credentials.clientId, credentials.secret);
        let tokens: ClientTokenResponse;
        if (grantType === "authorization_code") {
          const code = text("code", 256);
          if (!code) throw invalidRequest("code is required.");
          tokens = await redeemAuthorizationCode(
            deps,
            client,
            {
              code,
              redirectUri: text("redirect_uri", 2048),
              codeVerifier: text("code_verifier", 256),
            },
            facts,
          );
        } else {
          const refreshToken = text("refresh_token", 512);
          if (!refreshToken) throw invalidRequest("refresh_token is required.");
          tokens = await refreshClientTokens(deps, client, refreshToken, facts);
        }
        c.header("cache-control", "no-store");
        c.header("pragma", "no-cache");
        return c.json(tokens, 200);
      }),
  );

  routes.add(
    openidOperation("POST /oauth2/revoke", "revokeOpenIdToken", {
      summary:
        "RFC 7009 revocation by a relying party of a refresh or access token issued to it (client authentication as at the token endpoint); always 200 for a token",
      bodyMediaTypes: ["application/x-www-form-urlencoded"],
      body: clientRevokeRequest,
      responses: {
        200: { description: "Revoked, or nothing of the client's to revoke" },
        400: clientTokenRefusal("No token given"),
        401: invalidClientAnswer,
      },
    }),
    (c) =>
      backChannel(c, async (fields) => {
        const request = clientRevokeRequest.safeParse(fields);
        if (!request.success) throw invalidRequest("token is required.");
        const credentials = clientCredentials(c.req.header("authorization"), {
          clientId: request.data.client_id ?? null,
          secret: request.data.client_secret ?? null,
        });
        const client = await authenticateClient(pool, credentials.clientId, credentials.secret);
        await revokeClientToken(
          deps,
          client,
          request.data.token,
          `${issuer}${userinfoPath}`,
          requestAuditFields(c),
        );
        c.header("cache-control", "no-store");
        return c.body(null, 200);
      }),
  );

  return routes;
}
