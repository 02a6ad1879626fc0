import { z } from "zod";
import type { Config } from "../config/index.ts";
import { DomainError } from "../errors.ts";
import { ApiRoutes, operationsOf } from "../http/api-route.ts";
import type { GateDenialAuditor, Principal } from "../http/app-env.ts";
import { peerAddress } from "../http/client-ip.ts";
import { problemOf } from "../http/error-map.ts";
import { acceptsHtml, originalRequest } from "../http/forwarded-request.ts";
import { gateRefusal } from "../http/gate.ts";
import { gateDenialReason } from "../http/gate-denials.ts";
import { problemResponse } from "../http/problem.ts";
import { readQuery } from "../http/query-params.ts";
import { signInPageUrl } from "../http/redirect-target.ts";
import { proxyTrust } from "../http/trusted-proxies.ts";
import { countForwardAuthDecision } from "../metrics.ts";
import { hasSecondFactor } from "../sessions/sessions.ts";
import { userRoles } from "../users/user-list.ts";

const authOperation = operationsOf({ tag: "auth", access: "anyone" });

// GET /auth/verify: nginx auth_request, Caddy forward_auth and Traefik
// forwardAuth call it for every request to every protected app. The answer
// depends only on the credentials (the authenticate middleware's one indexed
// read) and the optional requirement in our own query string, never on the
// original path, host, headers or user agent: bypasses in peers came from
// rules that some spelling of those could dodge. The original URL only
// decides where the sign-in page sends the browser back to.

export const verifyQuery = z.object({
  mode: z
    .literal("401")
    .optional()
    .describe("Answer 401 instead of 302 for browsers (nginx, which redirects itself)"),
  role: z.enum(userRoles).optional().describe("Minimum role: admin, or user (every approved user)"),
  group: z
    .string()
    .regex(/^[a-z0-9_-]+(,[a-z0-9_-]+)*$/, "expected comma-separated group names")
    .optional()
    .describe("Any of these groups; for now a user's groups are their role (admins are in both)"),
  mfa: z
    .literal("1")
    .optional()
    .describe(
      "Only a sign-in that gave a second factor passes (403 requirement_not_met otherwise)",
    ),
});

type VerifyQuery = z.infer<typeof verifyQuery>;

/**
 * Why /auth/verify refused, in X-Auth-Reason: stable words a proxy can log
 * and a page can explain (the problem body says it in prose).
 */
export const verifyRefusalReasons = [
  "unauthenticated",
  "expired",
  "pending_approval",
  "denied",
  "inactive",
  "requirement_not_met",
] as const;
type VerifyRefusalReason = (typeof verifyRefusalReasons)[number];

/** Groups a user belongs to. Until group membership exists, a user's groups are their role. */
function groupsOf(user: Principal["user"]): readonly string[] {
  return user.role === "admin" ? ["admin", "user"] : ["user"];
}

function requirementRefusal(user: Principal["user"], query: VerifyQuery): string | null {
  if (query.role === "admin" && user.role !== "admin") return "This app needs the admin role.";
  if (query.mfa && !hasSecondFactor(user.amr)) {
    return "This app needs a sign-in with a second factor.";
  }
  if (query.group) {
    const wanted = query.group.split(",");
    const groups = groupsOf(user);
    if (!wanted.some((g) => groups.includes(g))) {
      return `This app needs membership of ${wanted.join(" or ")}.`;
    }
  }
  return null;
}

/**
 * Header values are bytes: a name such as "李雷" goes out as raw UTF-8 (what
 * nginx and Caddy pass on untouched) and control characters never reach a
 * header, so no user-chosen name can add one.
 */
function headerValue(text: string | null): string {
  if (!text) return "";
  return Buffer.from(text.replace(/\p{Cc}/gu, " "), "utf8").toString("latin1");
}

// The headers of a 200, kept with the user object they describe: a check
// answered from the credential cache hands back the same object, so a
// cached caller's headers are built once per cache entry, not per request.
const headersOfUser = new WeakMap<Principal["user"], Record<string, string>>();

function allowedHeaders(user: Principal["user"]): Record<string, string> {
  let headers = headersOfUser.get(user);
  if (!headers) {
    // An address nobody confirmed is only what the user typed at sign-up:
    // apps behind us must not take it as who they are.
    const verified = user.email_verified && user.email !== null;
    headers = {
      "x-auth-user-id": user.user_id,
      "x-auth-email": verified ? headerValue(user.email) : "",
      "x-auth-email-verified": verified ? "true" : "false",
      "x-auth-role": user.role,
      "x-auth-name": headerValue(user.full_name),
      "x-auth-mfa": hasSecondFactor(user.amr) ? "true" : "false",
      "cache-control": "no-store",
    };
    headersOfUser.set(user, headers);
  }
  return headers;
}

export function forwardAuthRoutes({
  config,
  auditGateDenial,
}: {
  config: Pick<Config, "http">;
  auditGateDenial: GateDenialAuditor;
}) {
  const routes = new ApiRoutes();
  const trusted = proxyTrust(config.http);
  const noStore = { "cache-control": "no-store" };

  routes.add(
    authOperation("GET /auth/verify", "verifyForwardAuth", {
      summary:
        "Forward-auth for nginx auth_request, Caddy forward_auth and Traefik forwardAuth: 200 with X-Auth-User-Id, X-Auth-Email (verified addresses only), X-Auth-Email-Verified, X-Auth-Role, X-Auth-Name and X-Auth-MFA; every refusal names its X-Auth-Reason",
      query: verifyQuery,
      responses: {
        200: {
          description:
            "Allowed; the X-Auth-* headers name the user (empty when unknown). X-Auth-Email is empty unless the address is verified; X-Auth-Email-Verified is true or false; X-Auth-MFA is true when the sign-in gave a second factor",
        },
        302: {
          description:
            "Not signed in, and the original request is a browser asking for a page: to the sign-in page with redirect_to",
        },
        401: {
          description:
            "Not signed in (Location names the sign-in page); X-Auth-Reason: unauthenticated, or expired for a session or token past its lifetime",
        },
        403: {
          description:
            "Signed in but not allowed; X-Auth-Reason: pending_approval, denied, inactive or requirement_not_met",
        },
      },
    }),
    (c) => {
      // Most proxies ask without a query string: nothing to parse then.
      const query: VerifyQuery = c.req.url.includes("?") ? readQuery(c, verifyQuery) : {};
      const principal = c.get("principal");
      if (!principal) {
        const original = originalRequest(c, trusted(peerAddress(c)));
        const signIn = signInPageUrl(original.url, config.http);
        const reason: VerifyRefusalReason = c.get("credentialExpired")
          ? "expired"
          : "unauthenticated";
        countForwardAuthDecision(reason);
        const browserPage =
          (original.method === "GET" || original.method === "HEAD") &&
          acceptsHtml(c.req.header("accept"));
        if (browserPage && query.mode !== "401") {
          return c.body(null, 302, { location: signIn, "x-auth-reason": reason, ...noStore });
        }
        const refusal = new DomainError(reason === "expired" ? "session_expired" : "not_signed_in");
        return problemResponse(c, problemOf(refusal), {
          location: signIn,
          "x-auth-reason": reason,
          ...noStore,
        });
      }
      const pending = gateRefusal(principal);
      if (pending) {
        const { status, is_whitelisted } = principal.user;
        auditGateDenial(c, gateDenialReason(status, is_whitelisted));
        const reason: VerifyRefusalReason =
          status === "denied" ? "denied" : status !== "active" ? "inactive" : "pending_approval";
        countForwardAuthDecision(reason);
        return problemResponse(c, problemOf(new DomainError("not_approved", { detail: pending })), {
          "x-auth-reason": reason,
          ...noStore,
        });
      }
      const unmet = requirementRefusal(principal.user, query);
      if (unmet) {
        auditGateDenial(c, "requirement_not_met");
        const reason: VerifyRefusalReason = "requirement_not_met";
        countForwardAuthDecision(reason);
        const refusal = new DomainError("requirement_not_met", { detail: unmet });
        return problemResponse(c, problemOf(refusal), { "x-auth-reason": reason, ...noStore });
      }
      countForwardAuthDecision("allowed");
      return c.body(null, 200, allowedHeaders(principal.user));
    },
  );

  return routes;
}
