import type { MiddlewareHandler } from "hono";
import type { DatabasePool } from "slonik";
import type { Config } from "../config/index.ts";
import type { CredentialCache } from "../sessions/credential-cache.ts";
import type { SessionTouches } from "../sessions/session-touches.ts";
import { checkSession, sessionLookup } from "../sessions/sessions.ts";
import type { AccessTokens } from "../tokens/access-tokens.ts";
import { bearerTokenOf, createBearerAuthenticator } from "../tokens/bearer.ts";
import type { AppEnv, Principal } from "./app-env.ts";
import { readSessionCookie } from "./session-cookie.ts";

/**
 * Resolves the caller into c.var.principal (null when absent or invalid):
 * from `Authorization: Bearer <access token>` when that header is sent,
 * else from the session cookie. A request that presents a bearer token is
 * judged by it alone: a bad token is not rescued by a cookie riding along.
 * It never refuses a request itself: routes decide with the gate middleware
 * what an anonymous or pending caller may do.
 */
export function authenticate({
  config,
  pool,
  accessTokens,
  credentialCache,
  sessionTouches,
}: {
  config: Pick<Config, "http" | "session">;
  pool: DatabasePool;
  accessTokens: AccessTokens;
  credentialCache?: CredentialCache | undefined;
  sessionTouches: SessionTouches;
}): MiddlewareHandler<AppEnv> {
  const authenticateBearer = createBearerAuthenticator(pool, accessTokens, credentialCache);
  const lookupSession = sessionLookup(pool);
  return async (c, next) => {
    const authorization = c.req.header("authorization");
    let principal: Principal | null = null;
    if (authorization !== undefined && /^bearer(\s|$)/i.test(authorization)) {
      const token = bearerTokenOf(authorization);
      const found = token ? await authenticateBearer(token) : null;
      if (found) principal = { sessionId: found.claims.sid, via: "bearer", user: found.subject };
      // Refusals only: a second signature check tells "refresh it" from "sign in".
      else if (token && (await accessTokens.expired(token))) c.set("credentialExpired", true);
    } else {
      const secret = readSessionCookie(c, config);
      const found = secret
        ? await checkSession(lookupSession, secret, sessionTouches, credentialCache)
        : null;
      if (found === "expired") c.set("credentialExpired", true);
      else if (found) principal = { sessionId: found.session_id, via: "cookie", user: found };
    }
    c.set("principal", principal);
    await next();
  };
}
