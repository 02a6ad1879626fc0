import { z } from "zod";
import { DomainError, errorCodes } from "../errors.ts";
import { loginBody } from "../http/account-schemas.ts";
import { ApiRoutes, operationsOf } from "../http/api-route.ts";
import { requestAuditFields } from "../http/audit-fields.ts";
import {
  answer,
  invalidRequest,
  readFields,
  refusal,
  tokenResponse,
} from "../http/oauth-answers.ts";
import {
  mfaGrant,
  mfaGrantType,
  mfaRequiredError,
  secondFactorOfGrant,
} from "../http/second-factor-body.ts";
import type { IdTokens } from "../oidc/id-tokens.ts";
import { sessionAuthenticatedAt } from "../sessions/sessions.ts";
import { completeSignIn, type SignInDeps } from "../sign-in/complete.ts";
import { type PasswordLoginDeps, verifyPasswordLogin } from "../sign-in/password-login.ts";
import { finishPendingSignIn } from "../sign-in/pending-sign-in.ts";
import { refreshTokenPair } from "../tokens/refresh-rotation.ts";
import { startTokenSession, type TokenDeps } from "../tokens/token-grants.ts";
import { revokeToken } from "../tokens/token-revocation.ts";

const tokensOperation = operationsOf({ tag: "tokens", access: "anyone" });

// The token endpoint speaks OAuth 2.0 (RFC 6749 §5), not problem+json
// (src/http/oauth-answers.ts): its clients are OAuth libraries that read
// `error` from the body. Every other route here answers problems like the
// rest of the API.

export const tokenError = z
  .object({
    error: z.enum(["invalid_request", "invalid_grant", "unsupported_grant_type", "slow_down"]),
    error_description: z.string(),
    code: z.enum(errorCodes).meta({ description: "Gatehouse's stable code (docs/errors.md)" }),
  })
  .meta({ id: "OAuthError", description: "RFC 6749 §5.2 error response" });

const refreshGrant = z.object({
  grant_type: z.literal("refresh_token"),
  refresh_token: z.string().min(1).max(512),
});

// RFC 6749 §4.3 names the field `username`; `email` (as /auth/login) is accepted too.
const passwordGrant = loginBody.extend({ grant_type: z.literal("password") });

/** As documented; the handler validates field by field to answer RFC 6749 errors. */
export const tokenRequest = z.discriminatedUnion("grant_type", [
  passwordGrant,
  refreshGrant,
  mfaGrant,
]);

export const revokeRequest = z.object({
  token: z.string().min(1).max(8192),
  token_type_hint: z.enum(["refresh_token", "access_token"]).optional(),
});

const jwksResponse = z.object({
  keys: z.array(
    z.object({
      kty: z.string(),
      crv: z.string().optional(),
      x: z.string().optional(),
      y: z.string().optional(),
      n: z.string().optional().meta({ description: "RSA keys (ID tokens): modulus" }),
      e: z.string().optional().meta({ description: "RSA keys (ID tokens): exponent" }),
      kid: z.string(),
      alg: z.string(),
      use: z.literal("sig"),
    }),
  ),
});

export function tokenRoutes(
  deps: TokenDeps & SignInDeps & PasswordLoginDeps & { idTokens: IdTokens },
) {
  const routes = new ApiRoutes();

  routes.add(
    tokensOperation("POST /auth/token", "issueToken", {
      summary:
        "OAuth 2.0 token endpoint: grant_type=password (email or username, password), refresh_token, or urn:gatehouse:params:oauth:grant-type:mfa (mfa_token and otp or recovery_code); JSON or form; errors are RFC 6749 {error, error_description}",
      // RFC 6749 §4.3.2 and RFC 7009 §2.1: OAuth clients send a form.
      bodyMediaTypes: ["application/x-www-form-urlencoded", "application/json"],
      body: tokenRequest,
      responses: {
        200: {
          description:
            "A token pair (a refresh token is single-use: each answer carries its successor)",
          body: tokenResponse,
        },
        400: {
          description:
            "invalid_request, invalid_grant (also a wrong password, or a locked or inactive account) or unsupported_grant_type",
          body: tokenError,
          contentType: "application/json",
        },
        403: {
          description:
            "mfa_required: the password was right and the account has a second factor; finish with the mfa grant",
          body: mfaRequiredError,
          contentType: "application/json",
        },
        429: {
          description: "The sign-in rate limits of /auth/login (Retry-After)",
          body: tokenError,
          contentType: "application/json",
        },
      },
    }),
    async (c) => {
      try {
        const read = await readFields(c);
        if ("refused" in read) throw invalidRequest(read.refused);
        const { fields } = read;
        const grantType = fields.grant_type;
        if (typeof grantType !== "string" || grantType === "") {
          throw invalidRequest("grant_type is required.");
        }
        if (grantType === "refresh_token") {
          const grant = refreshGrant.safeParse(fields);
          if (!grant.success) {
            throw invalidRequest("refresh_token is required.");
          }
          return answer(
            c,
            await refreshTokenPair(deps, grant.data.refresh_token, requestAuditFields(c)),
          );
        }
        if (grantType === "password") {
          const grant = passwordGrant.safeParse({
            ...fields,
            email: fields.email ?? fields.username,
          });
          if (!grant.success) {
            throw invalidRequest("email (or username) and password are required.");
          }
          const client = requestAuditFields(c);
          // The very checks of POST /auth/login: rate limits, lockout, timing.
          const factor = await verifyPasswordLogin(deps, {
            email: grant.data.email,
            password: grant.data.password,
            ...client,
            method: "token",
          });
          const outcome = await completeSignIn(deps, factor, { kind: "token" }, client);
          if (outcome.kind === "pending") {
            c.header("cache-control", "no-store");
            return c.json(
              mfaRequiredError.parse({
                error: "mfa_required",
                error_description: "A second factor is required: use the mfa grant with mfa_token.",
                code: "mfa_required",
                mfa_token: outcome.secret,
                methods: outcome.methods,
                ...(outcome.enrolment ? { enrolment_required: true } : {}),
              }),
              403,
            );
          }
          return answer(c, outcome.pair);
        }
        if (grantType === mfaGrantType) {
          const grant = mfaGrant.safeParse(fields);
          const given = grant.success ? secondFactorOfGrant(grant.data) : null;
          if (!grant.success || !given) {
            throw invalidRequest("mfa_token and one of otp or recovery_code are required.");
          }
          const { pair } = await finishPendingSignIn(
            deps,
            grant.data.mfa_token,
            given,
            { kind: "token" },
            requestAuditFields(c),
          );
          return answer(c, pair);
        }
        throw new DomainError("unsupported_grant_type");
      } catch (error) {
        if (error instanceof DomainError) return refusal(c, error);
        throw error;
      }
    },
  );

  routes.add(
    tokensOperation("POST /auth/token/session", "exchangeSessionForToken", {
      summary: "Exchange the browser session (cookie) for a token pair, for CLI sign-in",
      access: "signed-in",
      responses: {
        200: { description: "A token pair bound to a new device session", body: tokenResponse },
        403: { description: "Only a browser session (cookie) can be exchanged" },
      },
    }),
    async (c) => {
      const principal = c.get("principal");
      // A bearer token must not mint a fresh 30-day family: that would turn a
      // stolen 10-minute token into a long-lived one.
      if (principal?.via !== "cookie") {
        throw new DomainError("browser_session_required");
      }
      const signedInAt = principal.sessionId
        ? await sessionAuthenticatedAt(deps.pool, principal.sessionId)
        : null;
      if (!signedInAt) throw new DomainError("not_signed_in");
      const pair = await startTokenSession(
        deps,
        {
          id: principal.user.user_id,
          role: principal.user.role,
          email: principal.user.email,
          email_verified: principal.user.email_verified,
        },
        { signedInAt, amr: principal.user.amr },
        requestAuditFields(c),
      );
      return answer(c, pair);
    },
  );

  routes.add(
    tokensOperation("POST /auth/revoke", "revokeToken", {
      summary: "RFC 7009 revocation of a refresh or access token; always 200",
      // RFC 6749 §4.3.2 and RFC 7009 §2.1: OAuth clients send a form.
      bodyMediaTypes: ["application/x-www-form-urlencoded", "application/json"],
      body: revokeRequest,
      responses: {
        200: { description: "Revoked, or nothing to revoke" },
        400: { description: "No token given", body: tokenError, contentType: "application/json" },
      },
    }),
    async (c) => {
      const read = await readFields(c);
      const request = revokeRequest.safeParse("fields" in read ? read.fields : {});
      // RFC 7009 §2.2: an unknown or invalid token is still a 200; only a
      // request without a token at all is malformed.
      if ("refused" in read || !request.success) {
        return refusal(c, invalidRequest("refused" in read ? read.refused : "token is required."));
      }
      await revokeToken(deps, request.data.token, requestAuditFields(c));
      c.header("cache-control", "no-store");
      return c.body(null, 200);
    },
  );

  routes.add(
    tokensOperation("GET /.well-known/jwks.json", "getJwks", {
      summary:
        "Public keys that verify our access tokens (Ed25519, P-256) and ID tokens (RSA) (JWK Set)",
      responses: { 200: { description: "The JWK Set", body: jwksResponse } },
    }),
    (c) => {
      // Verifiers may cache for five minutes: publish a new key that long before it signs.
      c.header("cache-control", "public, max-age=300");
      // Public keys: any origin may read them (a browser-side verifier, say).
      c.header("access-control-allow-origin", "*");
      return c.json({ keys: [...deps.accessTokens.jwks.keys, ...deps.idTokens.jwks] });
    },
  );

  return routes;
}
