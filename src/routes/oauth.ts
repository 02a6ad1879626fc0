import { timingSafeEqual } from "node:crypto";
import type { Context } from "hono";
import { DomainError, hasCode } from "../errors.ts";
import { ApiRoutes, operationsOf } from "../http/api-route.ts";
import type { AppEnv, Principal } from "../http/app-env.ts";
import { requestAuditFields } from "../http/audit-fields.ts";
import { signInBrowser } from "../http/browser-sign-in.ts";
import { clearFlowCookie, readFlowCookie, writeFlowCookie } from "../http/oauth-flow-cookie.ts";
import { secondFactorPageUrl } from "../http/pending-sign-in-cookie.ts";
import {
  answerProviderSignInFailure,
  type SignInFailure,
} from "../http/provider-sign-in-failure.ts";
import { callbackQuery, loginQuery, providersResponse } from "../http/provider-sign-in-schemas.ts";
import { hasRecentAuth } from "../http/recent-auth.ts";
import { safeRedirectTarget } from "../http/redirect-target.ts";
import type { TokenCipher } from "../keys/token-encryption.ts";
import {
  callbackUrlOf,
  type MembershipNeeds,
  ProviderFailure,
  type ProviderName,
  type SignInProvider,
} from "../providers/sign-in-providers.ts";
import type { SignInDeps } from "../sign-in/complete.ts";
import { linkProviderToUser } from "../sign-in/provider-link.ts";
import { membershipNeeds, SignInRefused, signInWithProvider } from "../sign-in/provider-sign-in.ts";

const authOperation = operationsOf({ tag: "auth", access: "anyone" });

const noNeeds: MembershipNeeds = { githubOrgs: false, githubTeams: false };

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

type Deps = SignInDeps & {
  signInProviders: ReadonlyMap<ProviderName, SignInProvider>;
  /** Loads the keys on first use (see lazyTokenCipher). */
  tokenCipher: () => Promise<TokenCipher>;
};

export function oauthRoutes(deps: Deps) {
  const { config, pool, tokenCipher } = deps;
  const routes = new ApiRoutes();
  const providers = deps.signInProviders;
  const needsOf = (provider: SignInProvider) =>
    provider.name === "github" ? membershipNeeds(pool) : Promise.resolve(noNeeds);
  const providerOf = (c: Context<AppEnv>) => {
    const provider = providers.get(c.req.param("provider") as ProviderName);
    if (!provider) throw new DomainError("provider_not_found");
    return provider;
  };

  routes.add(
    authOperation("GET /auth/providers", "listSignInProviders", {
      summary: "The enabled login methods: providers, email + password, codes by mail",
      responses: { 200: { description: "Enabled providers", body: providersResponse } },
    }),
    (c) =>
      c.json({
        providers: [...providers.values()].map((p) => ({
          id: p.name,
          name: p.label,
          login_url: `/auth/${p.name}/login`,
        })),
        password: { login_url: "/auth/login", signup_url: "/auth/signup" },
        email_code: { request_url: "/auth/email-code", verify_url: "/auth/email-code/verify" },
      }),
  );

  routes.add(
    authOperation("GET /auth/:provider/login", "startProviderSignIn", {
      summary: "Start signing in with a provider: 302 to its authorization page",
      query: loginQuery,
      responses: {
        302: { description: "To the provider; a short-lived flow cookie holds state, PKCE, nonce" },
        404: { description: "No such provider is enabled" },
        502: { description: "The provider could not be reached (OpenID Connect discovery)" },
      },
    }),
    async (c) => {
      const provider = providerOf(c);
      const target = safeRedirectTarget(c.req.query("redirect_to"), config.http);
      // It rides in the flow cookie, which has to stay well under 4 KB.
      const redirectTo = target.length <= 2048 ? target : "/";
      let started: Awaited<ReturnType<SignInProvider["begin"]>>;
      try {
        started = await provider.begin(await needsOf(provider));
      } catch (error) {
        if (!(error instanceof ProviderFailure)) throw error;
        c.get("logger").warn(
          { provider: provider.name, detail: error.detail, requestId: c.get("requestId") },
          "sign-in not started",
        );
        if (c.req.header("accept")?.includes("text/html")) {
          return c.redirect(`/?${new URLSearchParams({ error: "provider_unavailable" })}`, 302);
        }
        throw new DomainError("provider_unavailable");
      }
      writeFlowCookie(c, config, { provider: provider.name, secrets: started.secrets, redirectTo });
      return c.redirect(started.authorizationUrl, 302);
    },
  );

  routes.add(
    authOperation("POST /account/providers/:provider/link", "linkProviderForm", {
      summary:
        "Form: link another provider to the signed-in account: 303 to its authorization page, back to /account (needs a sign-in or step-up within REAUTH_MAX_AGE)",
      tag: "pages",
      access: "gated",
      recentAuth: "checked-by-handler",
      responses: {
        303: {
          description:
            "To the provider (a flow cookie names the account to link to); to /account?error=... when the session is too old or the provider is unreachable",
        },
        404: { description: "No such provider is enabled" },
      },
    }),
    async (c) => {
      const provider = providerOf(c);
      const principal = c.get("principal") as Principal;
      const back = (error: string) => c.redirect(`/account?${new URLSearchParams({ error })}`, 303);
      // Linking adds a way in: only a session that proved itself lately may.
      if (!(await hasRecentAuth(c))) return back("reauth_required");
      let started: Awaited<ReturnType<SignInProvider["begin"]>>;
      try {
        started = await provider.begin(await needsOf(provider));
      } catch (error) {
        if (!(error instanceof ProviderFailure)) throw error;
        return back("provider_unavailable");
      }
      writeFlowCookie(c, config, {
        provider: provider.name,
        secrets: started.secrets,
        redirectTo: "/account",
        linkUserId: principal.user.user_id,
      });
      return c.redirect(started.authorizationUrl, 303);
    },
  );

  routes.add(
    authOperation("GET /auth/:provider/callback", "completeProviderSignIn", {
      summary:
        "The provider's redirect back: signs in (or creates the user) and 302s to redirect_to",
      query: callbackQuery,
      responses: {
        302: {
          description:
            "Signed in: a new session cookie, to redirect_to. Browsers (Accept: text/html) are sent to /?error=... on failure instead of a problem",
        },
        400: { description: "Missing, tampered or replayed state; the provider refused the code" },
        401: { description: "Consent was denied at the provider" },
        403: { description: "The account is inactive or locked" },
        404: { description: "No such provider is enabled" },
        409: { description: "The email's owner already signs in with another identity there" },
        502: { description: "The provider answered with an error or something unreadable" },
      },
    }),
    async (c) => {
      const provider = providerOf(c);
      const flow = readFlowCookie(c, config);
      // Whatever happens next, this flow is over: the cookie cannot serve twice.
      clearFlowCookie(c, config);

      const fail = (
        reason: SignInFailure,
        logDetail?: string,
        userId?: string | null,
        recorded?: "all" | "counted" | "done",
      ) =>
        answerProviderSignInFailure(c, deps, {
          provider: provider.name,
          flow,
          reason,
          logDetail,
          userId,
          recorded,
        });

      // The flow cookie and state come first, error reports included (RFC 6749
      // §4.1.2.1 echoes state in them): a callback this browser did not start
      // is anyone's link, so it is refused as forged and writes no audit row
      // that a stranger could fill the trail with.
      const state = c.req.query("state");
      if (!flow || flow.provider !== provider.name || !state || !sameSecret(state, flow.state)) {
        return fail("bad_state", flow ? "state mismatch" : "no flow cookie", null, "counted");
      }
      const error = c.req.query("error");
      if (error) {
        return fail(
          error === "access_denied" ? "access_denied" : "provider_error",
          error.slice(0, 100),
        );
      }
      if (!c.req.query("code")) return fail("provider_refused", "no code in the callback");

      // The provider redirected to PUBLIC_URL's callback; the request URL may be
      // an internal one, so rebuild it from PUBLIC_URL with the query string.
      const callbackUrl = new URL(callbackUrlOf(config, provider.name));
      callbackUrl.search = new URL(c.req.url).search;
      const needs = await needsOf(provider);
      let identity: Awaited<ReturnType<SignInProvider["finish"]>>;
      try {
        identity = await provider.finish(callbackUrl, flow, needs);
      } catch (error) {
        if (!(error instanceof ProviderFailure)) throw error;
        return fail(error.code, error.detail);
      }

      if (flow.linkUserId) {
        // Started from the account page: the same person must still be signed in here.
        if (c.get("principal")?.user.user_id !== flow.linkUserId) {
          return fail("bad_state", "link for another session", null, "counted");
        }
        const outcome = await linkProviderToUser(
          { ...deps, cipher: await tokenCipher() },
          flow.linkUserId,
          identity,
          requestAuditFields(c),
        );
        const query = outcome === "linked" ? "notice=linked" : `error=link_${outcome}`;
        return c.redirect(`/account?${query}`, 302);
      }

      let signedIn: Awaited<ReturnType<typeof signInWithProvider>>;
      try {
        signedIn = await signInWithProvider(
          { ...deps, cipher: await tokenCipher() },
          identity,
          requestAuditFields(c),
        );
      } catch (error) {
        if (!(error instanceof SignInRefused)) throw error;
        return fail(error.code, undefined, error.userId);
      }
      let outcome: Awaited<ReturnType<typeof signInBrowser>>;
      try {
        outcome = await signInBrowser(c, deps, {
          user: signedIn.user,
          method: provider.name,
          identity,
          ...(identity.amr ? { providerAmr: identity.amr } : {}),
          context: { created: signedIn.created, linked: signedIn.linked },
        });
      } catch (error) {
        // Locked or deactivated meanwhile: completeSignIn recorded the failure.
        if (!hasCode(error, "account_inactive", "account_locked")) throw error;
        return fail("account_inactive", undefined, signedIn.user.id, "done");
      }
      const target = safeRedirectTarget(flow.redirectTo, config.http);
      // A provider's word is a first factor like a password: a user with a
      // second factor gives it on the second-factor page before any session
      // (or, whom policy requires to have one, enrols one there), unless the
      // provider asserted its own and MFA_TRUST_PROVIDER_AMR takes its word.
      if (outcome.kind === "pending") return c.redirect(secondFactorPageUrl(target), 302);
      return c.redirect(target, 302);
    },
  );

  return routes;
}
