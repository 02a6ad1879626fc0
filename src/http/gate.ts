import type { MiddlewareHandler } from "hono";
import { DomainError } from "../errors.ts";
import type { AppEnv, Principal } from "./app-env.ts";
import { gateDenialReason } from "./gate-denials.ts";

// SPEC's access levels. "Gated" = signed in AND whitelisted AND active: a
// signed-in user awaiting approval may read /me and sign out, nothing else.

export function requireSignedIn(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!c.get("principal")) {
      // A bearer token was sent and refused: RFC 6750 §3.1 says so (invalid_token).
      const refusedToken = /^bearer\s/i.test(c.req.header("authorization") ?? "");
      throw new DomainError(refusedToken ? "invalid_token" : "not_signed_in");
    }
    await next();
  };
}

/** Why a signed-in principal may not pass the gate, or null when it may. */
export function gateRefusal(principal: Principal): string | null {
  if (principal.user.status === "denied") return "This account was denied by an administrator.";
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
        throw new DomainError("not_approved", { detail: refusal });
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
        throw new DomainError("admin_only");
      }
      await next();
    });
}
