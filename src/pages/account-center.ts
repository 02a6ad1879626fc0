import type { Context } from "hono";
import type { DatabasePool } from "slonik";
import { pageOfAuditEvents } from "../audit-trail.ts";
import type { Config } from "../config/index.ts";
import { DomainError } from "../errors.ts";
import { operationsOf } from "../http/api-route.ts";
import type { AppEnv, Principal } from "../http/app-env.ts";
import { htmlResponse, pageAgainIfRefused } from "../http/form-answers.ts";
import type { Problem } from "../http/problem.ts";
import { hasRecentAuth } from "../http/recent-auth.ts";
import type { Logger } from "../logger.ts";
import { securityOverview } from "../mfa/security-overview.ts";
import { appsWithAccess, toAppView } from "../oidc/apps-with-access.ts";
import type { ProviderName, SignInProvider } from "../providers/sign-in-providers.ts";
import { listDevices } from "../users/devices.ts";
import { linkedAccountsOf } from "../users/user-record.ts";
import { ownUserView } from "../users/user-view.ts";
import { accountPath } from "./account/path.ts";
import { accountPage } from "./account-page.tsx";

// The account center as its routes answer it: the page with everything it
// shows read for the signed-in user, and its forms' two outcomes, a
// redirect back naming a fixed notice (POST-redirect-GET: a refresh does
// not send it again) or the page again with the refusal and its status.

export type AccountCenterDeps = {
  config: Pick<Config, "http">;
  pool: DatabasePool;
  logger: Logger;
  signInProviders: ReadonlyMap<ProviderName, SignInProvider>;
};

/** The signed-in user behind the account routes' gate (GET /account checks itself). */
export const principalOf = (c: Context<AppEnv>) => c.get("principal") as Principal;

export async function accountCenterPage(
  deps: AccountCenterDeps,
  c: Context<AppEnv>,
  shown: { notice?: string | undefined; error?: string | undefined; problem?: Problem },
  continueTo: string | null = null,
) {
  const { pool } = deps;
  const principal = principalOf(c);
  const userId = principal.user.user_id;
  const [user, overview, linked, devices, apps, events, recent] = await Promise.all([
    ownUserView(pool, userId),
    securityOverview(deps, userId),
    linkedAccountsOf(pool, userId),
    listDevices(deps, userId, principal.sessionId),
    appsWithAccess(pool, userId),
    pageOfAuditEvents(pool, { userId }, 5),
    hasRecentAuth(c),
  ]);
  if (!user) throw new DomainError("not_signed_in");
  const providers = [...deps.signInProviders.values()].map((p) => ({ id: p.name, label: p.label }));
  return accountPage(
    {
      user,
      providers,
      continueTo,
      overview,
      linked,
      devices,
      apps: apps.map(toAppView),
      events: events.page,
      recent,
    },
    shown,
  );
}

/** Runs a form's change; a refusal shows the account page again, as it now is, with the reason. */
export const answeringWithAccountPage = (
  deps: AccountCenterDeps,
  c: Context<AppEnv>,
  run: () => Promise<Response>,
) => pageAgainIfRefused(c, (problem) => accountCenterPage(deps, c, { problem }), run);

/** A form's change done: back to the account page, which names it. */
export const backToAccount = (c: Context, notice: string) =>
  c.redirect(`${accountPath}?notice=${notice}`, 303);

/** How the account center's routes are declared: gated pages, and their forms' answers. */
export const accountPageDeclarations = {
  operation: operationsOf({ tag: "pages", access: "gated" }),
  html: htmlResponse,
  done: (notice: string) => ({
    303: { description: `Done: back to the account page, which says so (?notice=${notice})` },
  }),
  refused: { 400: htmlResponse("Invalid input: the page again, with the refusal shown") },
};
