import { Hono } from "hono";
import { z } from "zod";
import type { ExplainDeps } from "../gate/access-explanation.ts";
import type { AppEnv, Principal } from "../http/app-env.ts";
import { requestAuditFields } from "../http/audit-fields.ts";
import { readBody } from "../http/json-body.ts";
import type { MfaResetDeps } from "../mfa/admin-reset.ts";
import type { IdTokens } from "../oidc/id-tokens.ts";
import type { SignInDeps } from "../sign-in/complete.ts";
import { reauthenticate } from "../sign-in/reauth.ts";
import type { DecisionDeps } from "../users/approval.ts";
import type { EndpointDeps } from "../webhooks/endpoints.ts";
import { userActionForm } from "./admin/user-actions.ts";
import { adminAllowlistScreen } from "./admin-routes/allowlist.tsx";
import { changeThenBack, requireAdminPage } from "./admin-routes/answers.tsx";
import { adminAuditScreen } from "./admin-routes/audit.tsx";
import { adminClientScreens } from "./admin-routes/clients.tsx";
import { adminUserScreens } from "./admin-routes/users.tsx";
import { adminWebhookScreens } from "./admin-routes/webhooks.tsx";

// The admin console: server-rendered HTML with plain forms, so it works
// without JavaScript. Screens are GET /admin (the approval queue) and
// /admin/view/* (users, one user, the audit log, the allowlist, webhooks,
// OpenID Connect clients, and the
// confirmation step of destructive actions); forms post to /admin/forms/*,
// which call the same domain functions as the JSON API and redirect back
// (POST-redirect-GET). The session cookie and the CSRF middleware protect
// them exactly as they protect the API, and writes need a recent sign-in.
// Each screen's routes are in admin-routes/, its views in admin/.

const reauthForm = z.object({
  back: userActionForm.shape.back,
  code: z.string().max(32).optional(),
  password: z.string().max(1024).optional(),
});

export function adminPageRoutes(
  deps: MfaResetDeps &
    SignInDeps &
    DecisionDeps &
    EndpointDeps &
    ExplainDeps & { idTokens: Pick<IdTokens, "algs"> },
) {
  const app = new Hono<AppEnv>();
  app.route("/", adminUserScreens(deps));
  app.route("/", adminAuditScreen(deps));
  app.route("/", adminAllowlistScreen(deps));
  app.route("/", adminWebhookScreens(deps));
  app.route("/", adminClientScreens(deps));

  // The step-up, for a form refused with reauth_required: not itself behind
  // the recent-auth check, and its wrong answers count toward the lockout.
  app.post("/admin/forms/reauth", requireAdminPage(), async (c) => {
    const form = await readBody(c, reauthForm);
    const principal = c.get("principal") as Principal;
    const code = form.code?.trim();
    return changeThenBack(c, form.back, "reauthenticated", () =>
      reauthenticate(
        deps,
        { userId: principal.user.user_id, sessionId: principal.sessionId },
        code ? { kind: "totp", code } : { kind: "password", password: form.password ?? "" },
        requestAuditFields(c),
      ),
    );
  });

  return app;
}
