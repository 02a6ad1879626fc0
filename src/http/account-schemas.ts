import { z } from "zod";
import { oauthProviderNames } from "../config/index.ts";
import { emailAddress, isPrintableText } from "../text-input.ts";
import { meResponse } from "../users/user-view.ts";
import { operation, type Route } from "./api-route.ts";
import { secondFactorMethodNames } from "./second-factor-body.ts";

// The schemas of the password and email-confirmation routes, and of the token
// endpoint's password grant, which takes the same fields as a JSON login.

// Input schemas: what a field may be before any domain rule looks at it.
// Strings are bounded (no unbounded hashing or storage work) and must be
// well-formed Unicode without control characters (PostgreSQL refuses NUL).

export const emailInput = emailAddress;

/** Long enough for any valid password; the policy itself is checked by the domain. */
const passwordInput = z.string().min(1, "Enter a password.").max(1024, "Too long.");

export const tokenInput = z.string().max(100, "This link is invalid.");

const fullNameInput = z
  .string()
  .trim()
  .max(200, "Use at most 200 characters.")
  .refine(isPrintableText, "Use printable characters only.")
  .transform((v) => (v === "" ? null : v));

/** A JSON boolean, or a form checkbox's value. */
const consentInput = z
  .union([z.boolean(), z.literal("true"), z.literal("on")])
  .optional()
  .transform((v) => v === true || v === "true" || v === "on");

export const loginBody = z.object({
  email: emailInput,
  password: passwordInput,
  /** Forms only: where to go once signed in (an allowed target, else "/"). */
  redirect_to: z.string().max(2048).optional(),
});
export const signupBody = z.object({
  email: emailInput,
  password: passwordInput,
  full_name: fullNameInput.nullish(),
  consent: consentInput,
});
export const emailBody = z.object({ email: emailInput });
export const resetBody = z.object({ token: tokenInput, password: passwordInput });
export const changeBody = z.object({
  current_password: passwordInput,
  new_password: passwordInput,
});

export const loginResponse = z.object({ user: meResponse });
/** The password was right and a second factor is owed: finish at POST /auth/mfa. */
export const mfaRequiredResponse = z.object({
  mfa_required: z.literal(true),
  methods: z.array(secondFactorMethodNames),
  enrolment_required: z.literal(true).optional().meta({
    description:
      "Policy requires a second factor the account lacks: the cookie is good only for enrolling one (POST /auth/mfa/totp, then /auth/mfa/totp/confirm)",
  }),
});
export const messageResponse = z.object({ message: z.string() });

export const rateLimitedResponse = {
  429: { description: "Too many requests from this client or for this address (Retry-After)" },
};

/** What a sign-in step answers when its secret (`wrong`) or the account refuses. */
export const signInRefusals = (wrong: string) => ({
  401: { description: wrong },
  403: { description: "Right secret, but the account is inactive" },
  423: { description: "Right secret, but the account is locked (Retry-After)" },
  429: { description: "The sign-in rate limits of /auth/login (Retry-After)" },
});

export const tokenQuery = z.object({ token: tokenInput.optional() });

/** An HTML page a mail or a form links to: public, the page itself is the answer. */
export const pageOperation = <P extends string>(
  route: Route<P>,
  operationId: string,
  declared: { summary: string; query?: z.ZodObject },
) =>
  operation(route, operationId, {
    ...declared,
    tag: "pages",
    access: "anyone",
    responses: { 200: { description: "HTML form", contentType: "text/html", body: z.string() } },
  });

/** A linked provider named in a path (`/me/accounts/:provider`, the account page's unlink). */
export const providerParam = z.enum([...oauthProviderNames, "oidc"]);
