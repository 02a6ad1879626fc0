import type { Context } from "hono";
import type { AuditedDeps } from "../audit.ts";
import { DomainError } from "../errors.ts";
import { logins } from "../metrics.ts";
import { recordSignInFailure } from "../sign-in/failures.ts";
import type { AppEnv } from "./app-env.ts";
import { requestAuditFields } from "./audit-fields.ts";
import { problemOf } from "./error-map.ts";
import type { FlowCookie } from "./oauth-flow-cookie.ts";
import { problemResponse } from "./problem.ts";

// How a provider's redirect back (GET /auth/:provider/callback) answers a
// sign-in or a link that failed: recorded, then a browser is sent back to
// where it started with `?error=`, and anything else gets a problem.

/** Why a provider sign-in failed: the audit reason, the answer's code and the page's `?error=`. */
export type SignInFailure =
  | "access_denied"
  | "provider_error"
  | "bad_state"
  | "provider_refused"
  | "provider_unavailable"
  | "account_inactive"
  | "account_conflict";

/**
 * `recorded`: "all" audits `login.failed` and counts it; "counted" only
 * counts (a forged callback must not fill the audit trail); "done" when
 * completeSignIn recorded it already.
 */
export async function answerProviderSignInFailure(
  c: Context<AppEnv>,
  { pool, logger }: AuditedDeps,
  failure: {
    provider: string;
    /** The flow the callback belongs to, when its cookie was readable. */
    flow: FlowCookie | null;
    reason: SignInFailure;
    logDetail?: string | undefined;
    userId?: string | null | undefined;
    recorded?: "all" | "counted" | "done" | undefined;
  },
): Promise<Response> {
  const { provider, flow, reason, recorded = "all" } = failure;
  c.get("logger").info(
    { provider, reason, detail: failure.logDetail, requestId: c.get("requestId") },
    "sign-in failed",
  );
  if (recorded === "all") {
    await recordSignInFailure(pool, logger, {
      method: provider,
      reason,
      userId: failure.userId ?? null,
      ...requestAuditFields(c),
    });
  } else if (recorded === "counted") {
    logins.inc({ method: provider, result: "failure" });
  }
  if (c.req.header("accept")?.includes("text/html")) {
    const back = new URLSearchParams({ error: reason });
    if (flow?.linkUserId) return c.redirect(`/account?${back}`, 302);
    if (flow && flow.redirectTo !== "/") back.set("redirect_to", flow.redirectTo);
    return c.redirect(`/?${back}`, 302);
  }
  // Built through the context so the cookie-clearing header goes with it.
  const problem = problemOf(new DomainError(reason));
  const response = problemResponse(c, problem);
  return c.body(await response.text(), problem.status, Object.fromEntries(response.headers));
}
