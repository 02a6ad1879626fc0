import type { DatabasePool } from "slonik";
import { z } from "zod";
import type { Config } from "../config/index.ts";
import {
  loginResponse,
  messageResponse,
  pageOperation,
  resetBody,
  tokenInput,
  tokenQuery,
} from "../http/account-schemas.ts";
import { ApiRoutes, operationsOf } from "../http/api-route.ts";
import { requestAuditFields } from "../http/audit-fields.ts";
import { answering, formField, htmlPage, linkToken, tokenOf } from "../http/form-answers.ts";
import { readBody } from "../http/json-body.ts";
import type { Problem } from "../http/problem.ts";
import type { Logger } from "../logger.ts";
import { AccountPage } from "../pages/card-page.tsx";
import { ConfirmChoices, EmailForm, NotMeForm } from "../pages/password-pages.tsx";
import { confirmEmail, disownSignUp } from "../password/email-confirmation.ts";
import type { RateLimitStore } from "../rate-limits/rate-limit-stores.ts";
import { toMeResponse } from "../users/user-view.ts";

const authOperation = operationsOf({ tag: "auth", access: "anyone" });

// The confirmation mail's two links. "Confirm" works only in a session of
// the account the link was sent for (its page signs in first); "this was not
// me" lets the mailbox holder take over an account someone else created with
// their address. See src/password/email-confirmation.ts.

export const verifyBody = z.object({ token: tokenInput });
/** The same fields as a password reset: the link's token and the new password. */
export const notMeBody = resetBody;

export function emailConfirmationRoutes(deps: {
  config: Pick<Config, "access" | "limits" | "passwords">;
  pool: DatabasePool;
  logger: Logger;
  rateLimitStore: RateLimitStore;
}) {
  const minLength = deps.config.passwords.PASSWORD_MIN_LENGTH;
  const routes = new ApiRoutes();

  const resendForm = () => EmailForm({ action: "/auth/email/resend", button: "Send a new link" });
  const verifyPage = (token: string, signedIn: boolean) => (problem?: Problem) =>
    AccountPage({
      title: "Confirm your email address",
      problem,
      children: token ? ConfirmChoices({ token, signedIn, minLength }) : resendForm(),
    });
  routes.add(
    pageOperation("GET /auth/email/verify", "showConfirmEmailPage", {
      summary: "Confirm-address page the verification mail links to (HTML)",
      query: tokenQuery,
    }),
    (c) => htmlPage(c, verifyPage(tokenOf(c), c.get("principal") !== null)()),
  );
  routes.add(
    authOperation("POST /auth/email/verify", "confirmEmail", {
      summary:
        "Confirm the email address with the token from the mail (single use, 24 h), in a session of the account it was sent for",
      access: "signed-in",
      // Without a session the form answers with a page offering to sign in.
      accessCheckedByHandler: true,
      body: verifyBody,
      responses: {
        200: { description: "Verified", body: loginResponse },
        400: { description: "Invalid input, or a link that is unknown, used or expired" },
        401: { description: "Not signed in: sign in with the account's password first" },
        403: { description: "The link belongs to another account (it stays unused)" },
      },
    }),
    async (c) => {
      const principal = c.get("principal");
      const token = linkToken(await formField(c, "token"));
      // A dead link gets the resend form; any other refusal keeps the link's choices.
      const formPage = (problem: Problem) =>
        verifyPage(problem.status === 400 ? "" : token, principal !== null)(problem);
      return answering(c, formPage, async (form) => {
        const body = await readBody(c, verifyBody);
        const user = await confirmEmail(
          deps,
          principal?.user.user_id ?? null,
          body.token,
          requestAuditFields(c),
        );
        return form
          ? htmlPage(
              c,
              AccountPage({
                title: "Address confirmed",
                notice: "Your email address is confirmed.",
                next: { href: "/account", label: "Continue" },
              }),
            )
          : c.json(loginResponse.parse({ user: toMeResponse(user) }));
      });
    },
  );

  const notMePage = (token: string) => (problem?: Problem) =>
    AccountPage({
      title: "This was not me",
      problem,
      children: token ? NotMeForm({ token, minLength }) : resendForm(),
    });
  routes.add(
    pageOperation("GET /auth/email/not-me", "showNotMePage", {
      summary: "“This was not me” page the verification mail links to (HTML)",
      query: tokenQuery,
    }),
    (c) => htmlPage(c, notMePage(tokenOf(c))()),
  );
  routes.add(
    authOperation("POST /auth/email/not-me", "disownSignUp", {
      summary:
        "“This was not me”: take over an unconfirmed account created with your address, with the mail's token and a new password; signs out everywhere",
      body: notMeBody,
      responses: {
        200: {
          description:
            "The account is the mailbox holder's: password set, address verified, every session and token revoked",
          body: messageResponse,
        },
        400: { description: "Invalid input, a refused password, or a used/expired link" },
      },
    }),
    async (c) => {
      const token = linkToken(await formField(c, "token"));
      // Only a refused password is worth another try with the same link.
      const formPage = (problem: Problem) =>
        notMePage(problem.extra.errors?.some((e) => e.pointer === "#/password") ? token : "")(
          problem,
        );
      return answering(c, formPage, async (form) => {
        const body = await readBody(c, notMeBody);
        await disownSignUp(deps, body, requestAuditFields(c));
        const message =
          "The account is yours: the address is confirmed, your password is set and every other session was signed out. Sign in with your new password.";
        return form
          ? htmlPage(
              c,
              AccountPage({
                title: "The account is yours",
                notice: message,
                next: { href: "/", label: "Sign in" },
              }),
            )
          : c.json({ message });
      });
    },
  );

  return routes;
}
