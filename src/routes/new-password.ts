import type { Context } from "hono";
import {
  changeBody,
  messageResponse,
  pageOperation,
  rateLimitedResponse,
  resetBody,
  tokenQuery,
} from "../http/account-schemas.ts";
import { ApiRoutes, operationsOf } from "../http/api-route.ts";
import type { AppEnv, Principal } from "../http/app-env.ts";
import { requestAuditFields } from "../http/audit-fields.ts";
import { answering, formField, htmlPage as html, tokenOf } from "../http/form-answers.ts";
import { readBody } from "../http/json-body.ts";
import type { Problem } from "../http/problem.ts";
import { assertRecentAuthOf } from "../http/recent-auth.ts";
import { displayName } from "../pages/account-page.tsx";
import { AccountPage } from "../pages/card-page.tsx";
import {
  accountNext,
  ChangeForm,
  EmailForm,
  ResetForm,
  signInNext,
} from "../pages/password-pages.tsx";
import type { AccountDeps } from "../password/accounts.ts";
import { changePassword } from "../password/password-change.ts";
import { resetPassword } from "../password/password-reset.ts";

// Choosing a new password: with the token a reset mail carries (the mail
// itself is asked for at /auth/password/forgot, in password.ts), or, signed
// in, with the current one.

const authOperation = operationsOf({ tag: "auth", access: "anyone" });

export function newPasswordRoutes(deps: AccountDeps) {
  const minLength = deps.config.passwords.PASSWORD_MIN_LENGTH;
  const routes = new ApiRoutes();

  const resetPage = (token: string) => (problem?: Problem) =>
    AccountPage({
      title: "Choose a new password",
      problem,
      children: token
        ? ResetForm({ token, minLength })
        : EmailForm({ action: "/auth/password/forgot", button: "Mail me a new link" }),
    });
  routes.add(
    pageOperation("GET /auth/password/reset", "showResetPasswordPage", {
      summary: "New-password page the reset mail links to (HTML)",
      query: tokenQuery,
    }),
    (c) => html(c, resetPage(tokenOf(c))()),
  );
  routes.add(
    authOperation("POST /auth/password/reset", "resetPassword", {
      summary: "Set a new password with the mailed token (single use, 1 h); signs out everywhere",
      body: resetBody,
      responses: {
        200: {
          description: "Password set; every session and token revoked",
          body: messageResponse,
        },
        400: { description: "Invalid input, a refused password, or a used/expired link" },
      },
    }),
    async (c) => {
      // The form page needs the token back when only the password was refused.
      const token = await formField(c, "token");
      return answering(
        c,
        resetPage(/^[A-Za-z0-9_-]{1,100}$/.test(token) ? token : ""),
        async (form) => {
          const body = await readBody(c, resetBody);
          await resetPassword(deps, body, requestAuditFields(c));
          const message = "Password changed; sign in with the new one.";
          return form
            ? html(c, AccountPage({ title: "Password changed", notice: message, next: signInNext }))
            : c.json({ message });
        },
      );
    },
  );

  const changePage = (c: Context<AppEnv>) => (problem?: Problem) => {
    const principal = c.get("principal");
    return AccountPage({
      title: "Change your password",
      problem,
      signedInAs: principal ? displayName(principal.user) : undefined,
      children: ChangeForm({ minLength }),
    });
  };
  routes.add(
    pageOperation("GET /auth/password/change", "showChangePasswordForm", {
      summary: "Change-password form (HTML)",
    }),
    (c) => html(c, changePage(c)()),
  );
  routes.add(
    authOperation("POST /auth/password/change", "changePassword", {
      summary:
        "Change the password; other sessions are signed out, this one stays (needs a recent sign-in)",
      access: "signed-in",
      recentAuth: "checked-by-handler",
      body: changeBody,
      responses: {
        200: { description: "Changed", body: messageResponse },
        400: { description: "Invalid input, a wrong current password, or a refused new one" },
        409: { description: "The account has no password (use forgot password)" },
        ...rateLimitedResponse,
      },
    }),
    (c) =>
      answering(c, changePage(c), async (form) => {
        const principal = c.get("principal") as Principal;
        await assertRecentAuthOf(c);
        const body = await readBody(c, changeBody);
        await changePassword(
          deps,
          { userId: principal.user.user_id, sessionId: principal.sessionId },
          { currentPassword: body.current_password, newPassword: body.new_password },
          requestAuditFields(c),
        );
        const message = "Password changed; your other sessions were signed out.";
        return form
          ? html(
              c,
              AccountPage({
                title: "Password changed",
                notice: message,
                signedInAs: displayName(principal.user),
                next: accountNext,
              }),
            )
          : c.json({ message });
      }),
  );

  return routes;
}
