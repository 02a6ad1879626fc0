import type { Context } from "hono";
import { completeSignIn, type SignInDeps } from "../sign-in/complete.ts";
import type { FirstFactor } from "../sign-in/first-factor.ts";
import type { AppEnv } from "./app-env.ts";
import { requestAuditFields } from "./audit-fields.ts";
import { writeSessionCookie } from "./session-cookie.ts";

/**
 * Completes a browser's sign-in (src/sign-in/complete.ts) and writes its
 * session cookie. Only the cookie's own session is replaced; a bearer
 * token's session is another client's.
 */
export async function signInBrowser(c: Context<AppEnv>, deps: SignInDeps, factor: FirstFactor) {
  const principal = c.get("principal");
  const replaces = principal?.via === "cookie" ? principal.sessionId : null;
  const outcome = await completeSignIn(
    deps,
    factor,
    { kind: "browser", replaces },
    requestAuditFields(c),
  );
  writeSessionCookie(c, deps.config, outcome.secret);
  return outcome;
}
