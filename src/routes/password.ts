import { z } from "zod";
import {
  changeBody,
  emailBody,
  loginBody,
  loginResponse,
  messageResponse,
  mfaRequiredResponse,
  pageOperation,
  rateLimitedResponse,
  resetBody,
  signInRefusals,
  signupBody,
  tokenQuery,
} from "../http/account-schemas.ts";
import { ApiRoutes, operationsOf } from "../http/api-route.ts";
import type { Principal } from "../http/app-env.ts";
import { requestAuditFields } from "../http/audit-fields.ts";
import { answerBrowserSignIn } from "../http/browser-sign-in.ts";
import { answering, formField, htmlPage as html, tokenOf } from "../http/form-answers.ts";
import { readBody } from "../http/json-body.ts";
import type { Problem } from "../http/problem.ts";
import { assertRecentAuthOf } from "../http/recent-auth.ts";
import { safeRedirectTarget } from "../http/redirect-target.ts";
import {
  AccountPage,
  ChangeForm,
  EmailForm,
  LoginForm,
  ResetForm,
  SignupForm,
} from "../pages/password-pages.tsx";
import type { AccountDeps } from "../password/accounts.ts";
import { dummyHash } from "../password/hashing.ts";
import { changePassword } from "../password/password-change.ts";
import { requestPasswordReset, resetPassword } from "../password/password-reset.ts";
import { resendVerification, signUp } from "../password/sign-up.ts";
import type { SignInDeps } from "../sign-in/complete.ts";
import { verifyPasswordLogin } from "../sign-in/password-login.ts";

const authOperation = operationsOf({ tag: "auth", access: "anyone" });

export function passwordRoutes(deps: SignInDeps & AccountDeps) {
  const { config } = deps;
  const minLength = config.passwords.PASSWORD_MIN_LENGTH;
  void dummyHash(config.passwords);
  const routes = new ApiRoutes();

  const signupPage = (problem?: Problem) =>
    AccountPage({
      title: "Create an account",
      problem,
      children: SignupForm({ askConsent: config.access.REQUIRE_CONSENT, minLength }),
    });
  routes.add(
    pageOperation("GET /auth/signup", "showSignUpForm", {
      summary: "Sign-up form (HTML)",
    }),
    (c) => html(c, signupPage()),
  );
  routes.add(
    authOperation("POST /auth/signup", "signUp", {
      summary: "Create an email + password account; a verification mail follows",
      body: signupBody,
      responses: {
        201: {
          description: "Accepted; the same answer when the address already has an account",
          body: messageResponse,
        },
        ...rateLimitedResponse,
      },
    }),
    (c) =>
      answering(c, signupPage, async (form) => {
        const body = await readBody(c, signupBody);
        await signUp(
          deps,
          {
            email: body.email,
            password: body.password,
            fullName: body.full_name ?? null,
            consent: body.consent,
          },
          requestAuditFields(c),
        );
        const message = "Check your inbox to confirm your email address.";
        return form
          ? html(c, AccountPage({ title: "Almost there", notice: message }), 201)
          : c.json({ message }, 201);
      }),
  );

  const loginPage = (redirectTo: string) => (problem?: Problem) =>
    AccountPage({ title: "Sign in", problem, children: LoginForm({ redirectTo }) });
  routes.add(
    authOperation("POST /auth/login", "signIn", {
      summary: "Sign in with email and password; sets the session cookie",
      body: loginBody,
      responses: {
        200: {
          description:
            "Signed in; or, for an account with a second factor (or one that policy requires to have one), `mfa_required` and a cookie good only for /auth/mfa (5 minutes)",
          body: z.union([loginResponse, mfaRequiredResponse]),
        },
        ...signInRefusals("Wrong email or password (the same answer for an unknown email)"),
      },
    }),
    async (c) => {
      const redirectTo = safeRedirectTarget(await formField(c, "redirect_to"), config.http);
      return answering(c, loginPage(redirectTo), async (form) => {
        const body = await readBody(c, loginBody);
        const factor = await verifyPasswordLogin(deps, {
          email: body.email,
          password: body.password,
          ...requestAuditFields(c),
        });
        return answerBrowserSignIn(c, deps, factor, { form, redirectTo });
      });
    },
  );

  /**
   * A page with one email field, and the POST behind it: it mails something
   * and answers 202 whether or not the address has an account.
   */
  const mailRequest = (request: {
    path: string;
    title: string;
    button: string;
    operationIds: [show: string, post: string];
    summary: string;
    sentTitle: string;
    message: string;
    send: typeof resendVerification;
  }) => {
    const page = (problem?: Problem) =>
      AccountPage({
        title: request.title,
        problem,
        children: EmailForm({ action: request.path, button: request.button }),
      });
    const [showId, postId] = request.operationIds;
    routes.add(
      pageOperation(`GET ${request.path}`, showId, { summary: `${request.title} (HTML form)` }),
      (c) => html(c, page()),
    );
    routes.add(
      authOperation(`POST ${request.path}`, postId, {
        summary: request.summary,
        body: emailBody,
        responses: {
          202: { description: "Accepted", body: messageResponse },
          ...rateLimitedResponse,
        },
      }),
      (c) =>
        answering(c, page, async (form) => {
          const { email } = await readBody(c, emailBody);
          await request.send(deps, email, requestAuditFields(c));
          const { message } = request;
          return form
            ? html(c, AccountPage({ title: request.sentTitle, notice: message }), 202)
            : c.json({ message }, 202);
        }),
    );
  };
  mailRequest({
    path: "/auth/email/resend",
    title: "Send the confirmation mail again",
    button: "Send",
    operationIds: ["showResendVerificationForm", "resendVerification"],
    summary: "Send the verification mail again (202 whether or not the address has an account)",
    sentTitle: "Mail sent",
    message: "If this address has an unconfirmed account, a new mail is on its way.",
    send: resendVerification,
  });
  mailRequest({
    path: "/auth/password/forgot",
    title: "Forgot your password?",
    button: "Mail me a reset link",
    operationIds: ["showForgotPasswordForm", "requestPasswordReset"],
    summary: "Mail a password-reset link (202 whether or not the address has an account)",
    sentTitle: "Check your inbox",
    message: "If this address has an account, a reset link is on its way.",
    send: requestPasswordReset,
  });

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
            ? html(c, AccountPage({ title: "Password changed", notice: message }))
            : c.json({ message });
        },
      );
    },
  );

  const changePage = (problem?: Problem) =>
    AccountPage({ title: "Change your password", problem, children: ChangeForm({ minLength }) });
  routes.add(
    pageOperation("GET /auth/password/change", "showChangePasswordForm", {
      summary: "Change-password form (HTML)",
    }),
    (c) => html(c, changePage()),
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
      answering(c, changePage, async (form) => {
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
          ? html(c, AccountPage({ title: "Password changed", notice: message }))
          : c.json({ message });
      }),
  );

  if (deps.mailer.outbox) {
    const outbox = deps.mailer.outbox;
    // Development only (never mounted in production): the mails that were not sent.
    routes.add(
      authOperation("GET /dev/outbox", "listDevOutbox", {
        summary: "The mails the development outbox kept instead of sending (development only)",
        tag: "development",
        responses: { 200: { description: "The kept mails, newest last" } },
      }),
      (c) => c.json({ messages: outbox }),
    );
  }

  return routes;
}
