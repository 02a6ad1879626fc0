import { Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import { DomainError } from "./errors.ts";
import type { ApiOperation, ApiRoutes } from "./http/api-route.ts";
import type { AppEnv } from "./http/app-env.ts";
import { authenticate } from "./http/authenticate.ts";
import { clientIp } from "./http/client-ip.ts";
import { crossOriginBearer, crossOriginPaths } from "./http/cors.ts";
import { csrfProtection } from "./http/csrf.ts";
import { handleError, handleNotFound } from "./http/error-handler.ts";
import { gateDenialAuditor } from "./http/gate-denials.ts";
import { httpMetrics } from "./http/metrics.ts";
import { recentAuthChecker } from "./http/recent-auth.ts";
import { requestLogger } from "./http/request-logger.ts";
import { secureHeadersUnlessOk } from "./http/secure-headers.ts";
import { adminPageRoutes } from "./pages/admin-page.tsx";
import { apiDocsRoutes } from "./pages/api-docs.tsx";
import { brandedPages, faviconRoutes } from "./pages/branding.tsx";
import { notFoundPage } from "./pages/not-found-page.tsx";
import { passkeyPageRoutes } from "./pages/passkey-page.tsx";
import { passwordToggleRoutes } from "./pages/password-toggle.tsx";
import { signInPageRoutes } from "./pages/sign-in-page.tsx";
import { accountRoutes } from "./routes/account.ts";
import { accountAccessRoutes } from "./routes/account-access.ts";
import { accountSecurityRoutes } from "./routes/account-security.ts";
import { adminAllowlistRoutes } from "./routes/admin-allowlist.ts";
import { adminAuditRoutes } from "./routes/admin-audit.ts";
import { adminClientRoutes } from "./routes/admin-clients.ts";
import { adminHealthRoutes } from "./routes/admin-health.ts";
import { adminUserRoutes } from "./routes/admin-users.ts";
import { adminWebhookRoutes } from "./routes/admin-webhooks.ts";
import { authRoutes } from "./routes/auth.ts";
import { emailCodeRoutes } from "./routes/email-code.ts";
import { emailConfirmationRoutes } from "./routes/email-confirmation.ts";
import { forwardAuthRoutes } from "./routes/forward-auth.ts";
import { healthRoutes } from "./routes/health.ts";
import { meRoutes } from "./routes/me.ts";
import { meAccountRoutes } from "./routes/me-account.ts";
import { meAppRoutes } from "./routes/me-apps.ts";
import { meMfaRoutes } from "./routes/me-mfa.ts";
import { mePasskeyRoutes } from "./routes/me-passkeys.ts";
import { meSessionRoutes } from "./routes/me-sessions.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { newPasswordRoutes } from "./routes/new-password.ts";
import { oauthRoutes } from "./routes/oauth.ts";
import { oidcAuthorizationRoutes } from "./routes/oidc-authorize.ts";
import { oidcDiscoveryRoutes } from "./routes/oidc-discovery.ts";
import { oidcLogoutRoutes } from "./routes/oidc-logout.ts";
import { oidcTokenRoutes } from "./routes/oidc-token.ts";
import { oidcUserinfoRoutes } from "./routes/oidc-userinfo.ts";
import { passkeySignInRoutes } from "./routes/passkey-sign-in.ts";
import { passwordRoutes } from "./routes/password.ts";
import { reauthRoutes } from "./routes/reauth.ts";
import { secondFactorSignInRoutes } from "./routes/second-factor-sign-in.ts";
import { tokenRoutes } from "./routes/tokens.ts";
import type { Services } from "./services.ts";

/**
 * Wires middleware and routes over the services (src/services.ts builds
 * them); main.ts serves the app, tests call it over real HTTP.
 */
export function createApp(deps: Services) {
  const { config, logger } = deps;
  const app = new Hono<AppEnv>();
  // Every JSON route is an operation of an ApiRoutes: mounting it records
  // its operations, which /openapi.json describes.
  const operations: ApiOperation[] = [];
  const mount = (routes: ApiRoutes) => {
    operations.push(...routes.operations);
    app.route("/", routes.hono);
  };
  const metrics = httpMetrics();
  const authenticated = authenticate(deps);
  const auditGateDenial = gateDenialAuditor(deps);
  const recentAuth = recentAuthChecker(deps);
  const withGateAudit: MiddlewareHandler<AppEnv> = (c, next) => {
    c.set("auditGateDenial", auditGateDenial);
    c.set("recentAuth", recentAuth);
    return next();
  };

  // Every request starts with the same pieces: its id, its log line, its
  // metrics, the client's address.
  const front = () => [requestId(), requestLogger(logger), metrics, clientIp(config.http)] as const;

  // Forward-auth is asked about every request to every protected app: it is
  // answered here, before the general middleware, with the same front and
  // only what else it needs. It skips secure headers on a 200
  // (src/http/secure-headers.ts), and the body limit and CSRF (a GET that
  // reads no body and changes nothing).
  app.get("/auth/verify", ...front(), secureHeadersUnlessOk(), authenticated);
  mount(forwardAuthRoutes({ config, auditGateDenial }));

  for (const piece of front()) app.use(piece);
  app.use(brandedPages(config.branding));
  app.use(secureHeaders());
  // Only on the routes browser apps call with bearer tokens, and only when
  // CORS_ALLOWED_ORIGINS names some; preflights are answered here, before
  // any credential is read.
  const crossOrigin = crossOriginBearer(config);
  if (crossOrigin) for (const path of crossOriginPaths) app.use(path, crossOrigin);
  app.use(
    bodyLimit({
      maxSize: config.http.BODY_LIMIT_BYTES,
      onError: () => {
        throw new DomainError("body_too_large", {
          detail: `Request bodies are limited to ${config.http.BODY_LIMIT_BYTES} bytes.`,
        });
      },
    }),
  );

  // Probes come first: they never read credentials or touch the session table.
  mount(healthRoutes(deps));
  mount(faviconRoutes(config.branding));
  mount(metricsRoutes(deps));

  app.use(authenticated);
  app.use(withGateAudit);
  app.use(csrfProtection(config));

  mount(apiDocsRoutes({ operations, publicUrl: config.http.PUBLIC_URL }));
  mount(authRoutes(deps));
  mount(meRoutes(deps));
  mount(meAccountRoutes(deps));
  mount(meMfaRoutes(deps));
  mount(mePasskeyRoutes(deps));
  mount(adminUserRoutes(deps));
  mount(adminAllowlistRoutes(deps));
  mount(adminWebhookRoutes(deps));
  mount(adminAuditRoutes(deps));
  mount(adminHealthRoutes(deps));
  mount(adminClientRoutes(deps));
  app.route("/", adminPageRoutes(deps));
  mount(passwordRoutes(deps));
  mount(newPasswordRoutes(deps));
  mount(secondFactorSignInRoutes(deps));
  mount(emailCodeRoutes(deps));
  mount(reauthRoutes(deps));
  mount(passkeySignInRoutes(deps));
  mount(passkeyPageRoutes(deps));
  mount(passwordToggleRoutes());
  mount(accountRoutes(deps));
  mount(accountAccessRoutes(deps));
  mount(accountSecurityRoutes(deps));
  mount(emailConfirmationRoutes(deps));
  mount(tokenRoutes(deps));
  mount(meSessionRoutes(deps));
  mount(meAppRoutes(deps));
  mount(oauthRoutes(deps));
  mount(oidcDiscoveryRoutes(deps));
  mount(oidcAuthorizationRoutes(deps));
  mount(oidcTokenRoutes(deps));
  mount(oidcUserinfoRoutes(deps));
  mount(oidcLogoutRoutes(deps));
  app.route("/", signInPageRoutes(deps));

  app.notFound(notFoundPage(handleNotFound));
  app.onError(handleError);
  return app;
}

export type App = ReturnType<typeof createApp>;
