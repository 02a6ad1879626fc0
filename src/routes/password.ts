import { z } from "zod";
import { DomainError } from "../errors.ts";
import {
  emailBody,
  loginBody,
  loginResponse,
  messageResponse,
  mfaRequiredResponse,
  pageOperation,
  rateLimitedResponse,
  signInRefusals,
  signupBody,
} from "../http/account-schemas.ts";
import { ApiRoutes, operationsOf } from "../http/api-route.ts";
import { requestAuditFields } from "../http/audit-fields.ts";
import { answerBrowserSignIn } from "../http/browser-sign-in.ts";
import { answering, formField, htmlPage as html } from "../http/form-answers.ts";
import { readBody } from "../http/json-body.ts";
import type { Problem } from "../http/problem.ts";
import { safeRedirectTarget } from "../http/redirect-target.ts";
import { keepTypedEmail } from "../http/typed-email-cookie.ts";
import { AccountPage } from "../pages/card-page.tsx";
import {
  accountNext,
  EmailForm,
  LoginForm,
  SignupForm,
  signInNext,
} from "../pages/password-pages.tsx";
import type { AccountDeps } from "../password/accounts.ts";
import { dummyHash } from "../password/hashing.ts";
import { requestPasswordReset } from "../password/password-reset.ts";
import { resendVerification, signUp } from "../password/sign-up.ts";
import { refusesDenied } from "../sign-in/attempt.ts";
import type { SignInDeps } from "../sign-in/complete.ts";
import { verifyPasswordLogin } from "../sign-in/password-login.ts";

// Email + password accounts: signing up, signing in, and the two mails one
// asks for by address (the confirmation again, a password reset). Choosing
// the new password: new-password.ts.

const authOperation = operationsOf({ tag: "auth", access: "anyone" });

export function passwordRoutes(deps: SignInDeps & AccountDeps) {
  const { config } = deps;
  const minLength = config.passwords.PASSWORD_MIN_LENGTH;
  void dummyHash(config.passwords);
  const routes = new ApiRoutes();

  const signupPage =
    (typed: { email?: string; fullName?: string } = {}) =>
    (problem?: Problem) =>
      AccountPage({
        title: "Create an account",
        problem,
        children: SignupForm({ askConsent: config.access.REQUIRE_CONSENT, minLength, ...typed }),
      });
  routes.add(
    pageOperation("GET /auth/signup", "showSignUpForm", {
      summary: "Sign-up form (HTML)",
    }),
    (c) => html(c, signupPage()()),
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
    async (c) => {
      // A refused form keeps what was typed (never the password).
      const typed = {
        email: await formField(c, "email"),
        fullName: await formField(c, "full_name"),
      };
      return answering(c, signupPage(typed), async (form) => {
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
          ? html(c, AccountPage({ title: "Almost there", notice: message, next: signInNext }), 201)
          : c.json({ message }, 201);
      });
    },
  );

  const loginPage = (redirectTo: string, email: string) => (problem?: Problem) =>
    AccountPage({ title: "Sign in", problem, children: LoginForm({ redirectTo, email }) });
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
        303: {
          description:
            "A form post: on to redirect_to (or the second-factor page); refused, back to the sign-in page with ?error=<code> and the typed address kept",
        },
        ...signInRefusals("Wrong email or password (the same answer for an unknown email)"),
      },
    }),
    async (c) => {
      const redirectTo = safeRedirectTarget(await formField(c, "redirect_to"), config.http);
      const typedEmail = await formField(c, "email");
      // A malformed form (no browser sends one: the fields are required) is
      // refused with a 400 page; a refused sign-in goes back to the sign-in page.
      return answering(c, loginPage(redirectTo, typedEmail), async (form) => {
        const body = await readBody(c, loginBody);
        try {
          const factor = await verifyPasswordLogin(deps, {
            email: body.email,
            password: body.password,
            ...requestAuditFields(c),
          });
          return await answerBrowserSignIn(c, deps, factor, { form, redirectTo });
        } catch (error) {
          if (!(form && error instanceof DomainError)) throw error;
          // POST-redirect-GET: the sign-in page itself says why and keeps the
          // address; a refresh there does not send the password again.
          keepTypedEmail(c, config, body.email);
          const query = new URLSearchParams({
            error: refusesDenied(error) ? "account_denied" : error.code,
          });
          if (redirectTo !== "/") query.set("redirect_to", redirectTo);
          return c.redirect(`/?${query}`, 303);
        }
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
            ? html(
                c,
                AccountPage({
                  title: request.sentTitle,
                  notice: message,
                  next: c.get("principal") ? accountNext : signInNext,
                }),
                202,
              )
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
