import { z } from "zod";
import {
  emailInput,
  loginResponse,
  messageResponse,
  mfaRequiredResponse,
  rateLimitedResponse,
  signInRefusals,
} from "../http/account-schemas.ts";
import { ApiRoutes, operation, operationsOf } from "../http/api-route.ts";
import { requestAuditFields } from "../http/audit-fields.ts";
import { answerBrowserSignIn } from "../http/browser-sign-in.ts";
import { answering, formField, htmlPage } from "../http/form-answers.ts";
import { readBody } from "../http/json-body.ts";
import { safeRedirectTarget } from "../http/redirect-target.ts";
import { keepTypedEmail, takeTypedEmail } from "../http/typed-email-cookie.ts";
import { emailCodePage, emailCodeRequestPage } from "../pages/email-code-page.tsx";
import type { AccountDeps } from "../password/accounts.ts";
import type { SignInDeps } from "../sign-in/complete.ts";
import { requestEmailCode, verifyEmailCode } from "../sign-in/email-code.ts";
import { isPrintableText } from "../text-input.ts";

const authOperation = operationsOf({ tag: "auth", access: "anyone" });

// Passwordless sign-in with a code mailed to the account's address
// (src/sign-in/email-code.ts): ask for a code, then trade it for a session,
// as JSON or as the pages' form posts, like POST /auth/login.

/** Forms only: where to go once signed in (an allowed target, else "/"). */
const redirectInput = z.string().max(2048).optional();
const requestBody = z.object({ email: emailInput, redirect_to: redirectInput });
const verifyBody = z.object({
  email: emailInput,
  code: z
    .string()
    .max(32, "Enter the six digits from the mail.")
    .refine((v) => /^[0-9]{6}$/.test(v.replace(/\s+/g, "")), "Enter the six digits from the mail.")
    .meta({ description: "The six digits from the mail (spaces are ignored)" }),
  redirect_to: redirectInput,
});
const pageQuery = z.object({ redirect_to: redirectInput });
const codePageQuery = pageQuery.extend({
  sent: z
    .literal("1")
    .optional()
    .meta({ description: "Set by the redirect after a code was asked for: the page says so" }),
});
const bodyMediaTypes = ["application/json", "application/x-www-form-urlencoded"] as const;
const sentMessage = "If this address has an account that can sign in, a code is on its way.";

const pageResponse = {
  200: { description: "HTML form", contentType: "text/html", body: z.string() },
};
const showRequestFormOperation = operation("GET /auth/email-code", "showEmailCodeRequestForm", {
  summary: "“Email me a code” form (HTML)",
  query: pageQuery,
  responses: pageResponse,
  tag: "pages",
  access: "anyone",
});
const showCodeFormOperation = operation("GET /auth/email-code/verify", "showEmailCodeForm", {
  summary: "Form to type a mailed sign-in code (HTML)",
  query: codePageQuery,
  responses: pageResponse,
  tag: "pages",
  access: "anyone",
});
const requestCodeOperation = authOperation("POST /auth/email-code", "requestEmailSignInCode", {
  summary:
    "Mail a six-digit sign-in code (10 minutes, single use, 5 tries) to an account that can sign in; 202 whatever the address",
  bodyMediaTypes,
  body: requestBody,
  responses: {
    202: { description: "Accepted, for every address", body: messageResponse },
    303: {
      description:
        "A form post, accepted (for every address): on to the code form (POST-redirect-GET, so a refresh does not mail another code), the address kept in a one-minute cookie",
    },
    ...rateLimitedResponse,
  },
});
const verifyCodeOperation = authOperation("POST /auth/email-code/verify", "signInWithEmailCode", {
  summary:
    "Sign in with a mailed code; sets the session cookie (a user with a second factor gets `mfa_required` instead)",
  bodyMediaTypes,
  body: verifyBody,
  responses: {
    200: {
      description:
        "Signed in; or, for an account with a second factor (or one that policy requires to have one), `mfa_required` and a cookie good only for /auth/mfa (5 minutes)",
      body: z.union([loginResponse, mfaRequiredResponse]),
    },
    400: { description: "Invalid input (an address, six digits)" },
    ...signInRefusals(
      "The code is wrong, used, expired or used up (the same for an unknown address); a wrong one counts toward the lockout",
    ),
  },
});

export function emailCodeRoutes(deps: SignInDeps & AccountDeps) {
  const { config } = deps;
  const routes = new ApiRoutes();
  const redirectOf = (value: string | undefined) => safeRedirectTarget(value, config.http);
  /** An address typed into a form, fit to put back into the page ("" otherwise). */
  const typedEmail = (value: string) =>
    value.length <= 254 && isPrintableText(value) ? value.trim() : "";

  routes.add(showRequestFormOperation, (c) =>
    htmlPage(c, emailCodeRequestPage(redirectOf(c.req.query("redirect_to")))()),
  );
  routes.add(showCodeFormOperation, (c) =>
    htmlPage(
      c,
      emailCodePage(
        redirectOf(c.req.query("redirect_to")),
        takeTypedEmail(c) ?? "",
        c.req.query("sent") === "1" ? sentMessage : undefined,
      )(),
    ),
  );

  routes.add(requestCodeOperation, async (c) => {
    const redirectTo = redirectOf(await formField(c, "redirect_to"));
    const email = typedEmail(await formField(c, "email"));
    return answering(c, emailCodeRequestPage(redirectTo, email), async (form) => {
      const body = await readBody(c, requestBody);
      await requestEmailCode(deps, body.email, requestAuditFields(c));
      if (!form) return c.json({ message: sentMessage }, 202);
      // POST-redirect-GET: refreshing the code form does not ask for another code.
      keepTypedEmail(c, config, body.email);
      const query = new URLSearchParams({
        ...(redirectTo === "/" ? {} : { redirect_to: redirectTo }),
        sent: "1",
      });
      return c.redirect(`/auth/email-code/verify?${query}`, 303);
    });
  });

  routes.add(verifyCodeOperation, async (c) => {
    const redirectTo = redirectOf(await formField(c, "redirect_to"));
    const email = typedEmail(await formField(c, "email"));
    return answering(c, emailCodePage(redirectTo, email), async (form) => {
      const body = await readBody(c, verifyBody);
      const factor = await verifyEmailCode(deps, {
        email: body.email,
        code: body.code,
        ...requestAuditFields(c),
      });
      return answerBrowserSignIn(c, deps, factor, { form, redirectTo });
    });
  });

  return routes;
}
