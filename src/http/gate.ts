import type { MiddlewareHandler } from "hono";
import type { AppEnv, Principal } from "./app-env.ts";
import { gateDenialReason } from "./gate-denials.ts";
import { Problem } from "./problem.ts";

// SPEC's access levels. "Gated" = signed in AND whitelisted AND active: a
// signed-in user awaiting approval may read /me and sign out, nothing else.

export function requireSignedIn(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!c.get("principal")) {
      // RFC 6750 §3.1: tell a client whose token was refused that it was the token.
      const refusedToken = /^bearer\s/i.test(c.req.header("authorization") ?? "");
      throw new Problem(401, "Unauthorized", "Sign in first.", {
        headers: {
          "www-authenticate": refusedToken
            ? 'Bearer realm="gatehouse", error="invalid_token"'
            : 'Bearer realm="gatehouse"',
        },
      });
    }
    await next();
  };
}

/** Why a signed-in principal may not pass the gate, or null when it may. */
export function gateRefusal(principal: Principal): string | null {
  if (principal.user.status !== "active") return `This account is ${principal.user.status}.`;
  if (!principal.user.is_whitelisted)
    return "Your account is waiting for an administrator's approval.";
  return null;
}

export function requireGated(): MiddlewareHandler<AppEnv> {
  const signedIn = requireSignedIn();
  return (c, next) =>
    signedIn(c, async () => {
      const principal = c.get("principal") as Principal;
      const refusal = gateRefusal(principal);
      if (refusal) {
        c.get("auditGateDenial")?.(
          c,
          gateDenialReason(principal.user.status, principal.user.is_whitelisted),
        );
        throw new Problem(403, "Forbidden", refusal, {
          type: "urn:gatehouse:problem:not-approved",
        });
      }
      await next();
    });
}

export function requireAdmin(): MiddlewareHandler<AppEnv> {
  const gated = requireGated();
  return (c, next) =>
    gated(c, async () => {
      if (c.get("principal")?.user.role !== "admin") {
        c.get("auditGateDenial")?.(c, "not_admin");
        throw new Problem(403, "Forbidden", "Administrators only.");
      }
      await next();
    });
}
