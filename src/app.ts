import { Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import type { AppEnv } from "./http/app-env.ts";
import { authenticate } from "./http/authenticate.ts";
import { clientIp } from "./http/client-ip.ts";
import { csrfProtection } from "./http/csrf.ts";
import { gateDenialAuditor } from "./http/gate-denials.ts";
import { leanRequestLogger, secureHeadersUnlessOk } from "./http/lean-request.ts";
import { httpMetrics } from "./http/metrics.ts";
import { handleError, handleNotFound, Problem } from "./http/problem.ts";
import { requestLogger } from "./http/request-logger.ts";
import { adminPageRoutes } from "./pages/admin-page.tsx";
import { apiDocsApi, apiDocsRoutes } from "./pages/api-docs.tsx";
import { signInPageRoutes } from "./pages/sign-in-page.tsx";
import { adminAllowlistApi, adminAllowlistRoutes } from "./routes/admin-allowlist.ts";
import { adminAuditApi, adminAuditRoutes } from "./routes/admin-audit.ts";
import { adminHealthApi, adminHealthRoutes } from "./routes/admin-health.ts";
import { adminUserRoutes, adminUsersApi } from "./routes/admin-users.ts";
import { authApi, authRoutes } from "./routes/auth.ts";
import { emailConfirmationApi, emailConfirmationRoutes } from "./routes/email-confirmation.ts";
import { forwardAuthApi, forwardAuthRoutes } from "./routes/forward-auth.ts";
import { healthApi, healthRoutes } from "./routes/health.ts";
import { meApi, meRoutes } from "./routes/me.ts";
import { meAccountApi, meAccountRoutes } from "./routes/me-account.ts";
import { meSessionRoutes, meSessionsApi } from "./routes/me-sessions.ts";
import { metricsApi, metricsRoutes } from "./routes/metrics.ts";
import { oauthApi, oauthRoutes } from "./routes/oauth.ts";
import { passwordApi, passwordRoutes } from "./routes/password.ts";
import { tokenRoutes, tokensApi } from "./routes/tokens.ts";
import type { Services } from "./services.ts";

/** Every route's OpenAPI description; a test checks each registered route is here. */
export const apiRoutes = [
  ...healthApi,
  ...metricsApi,
  ...apiDocsApi,
  ...authApi,
  ...meApi,
  ...meAccountApi,
  ...adminUsersApi,
  ...adminAllowlistApi,
  ...adminAuditApi,
  ...adminHealthApi,
  ...forwardAuthApi,
  ...passwordApi,
  ...emailConfirmationApi,
  ...tokensApi,
  ...meSessionsApi,
  ...oauthApi,
];

/**
 * Wires middleware and routes over the services (src/services.ts builds
 * them); main.ts serves the app, tests call it over real HTTP.
 */
export function createApp(deps: Services) {
  const { config, logger } = deps;
  const app = new Hono<AppEnv>();
  const metrics = httpMetrics();
  const authenticated = authenticate(deps);
  const auditGateDenial = gateDenialAuditor({ ...deps, config: config.http });
  const withGateAudit: MiddlewareHandler<AppEnv> = (c, next) => {
    c.set("auditGateDenial", auditGateDenial);
    return next();
  };

  // Forward-auth is asked about every request to every protected app: it is
  // answered here, before the general middleware, with only the parts it
  // needs (src/http/lean-request.ts says what it skips and why).
  app.get(
    "/auth/verify",
    requestId(),
    leanRequestLogger(logger),
    metrics,
    secureHeadersUnlessOk(),
    authenticated,
    withGateAudit,
  );
  app.route("/", forwardAuthRoutes(deps));

  app.use(requestId());
  app.use(requestLogger(logger));
  app.use(metrics);
  app.use(clientIp(config.http));
  app.use(secureHeaders());
  app.use(
    bodyLimit({
      maxSize: config.http.BODY_LIMIT_BYTES,
      onError: () => {
        throw new Problem(
          413,
          "Content Too Large",
          `Request bodies are limited to ${config.http.BODY_LIMIT_BYTES} bytes.`,
        );
      },
    }),
  );

  // Probes come first: they never read credentials or touch the session table.
  app.route("/", healthRoutes(deps));
  app.route("/", metricsRoutes(deps));

  app.use(authenticated);
  app.use(withGateAudit);
  app.use(csrfProtection(config));

  app.route("/", apiDocsRoutes({ routes: apiRoutes, publicUrl: config.http.PUBLIC_URL }));
  app.route("/", authRoutes(deps));
  app.route("/", meRoutes(deps));
  app.route("/", meAccountRoutes(deps));
  app.route("/", adminUserRoutes(deps));
  app.route("/", adminAllowlistRoutes(deps));
  app.route("/", adminAuditRoutes(deps));
  app.route("/", adminHealthRoutes(deps));
  app.route("/", adminPageRoutes(deps));
  app.route("/", passwordRoutes(deps));
  app.route("/", emailConfirmationRoutes(deps));
  app.route("/", tokenRoutes(deps));
  app.route("/", meSessionRoutes(deps));
  app.route("/", oauthRoutes(deps));
  app.route("/", signInPageRoutes(deps));

  app.notFound(handleNotFound);
  app.onError(handleError);
  return app;
}

export type App = ReturnType<typeof createApp>;
