import { z } from "zod";
import { signInRefusals } from "../http/account-schemas.ts";
import { ApiRoutes, operation, operationsOf } from "../http/api-route.ts";
import { requestAuditFields } from "../http/audit-fields.ts";
import {
  browserPendingOwesEnrolment,
  browserPendingSignInMethods,
  browserPendingSignInPasskeyOptions,
  finishBrowserEnrolment,
  finishBrowserSignIn,
  startBrowserEnrolment,
} from "../http/browser-sign-in.ts";
import { answering, formField, htmlPage, isFormPost } from "../http/form-answers.ts";
import { readBody } from "../http/json-body.ts";
import { tokenResponse } from "../http/oauth-answers.ts";
import { passkeyOptionsResponse } from "../http/passkey-bodies.ts";
import type { Problem } from "../http/problem.ts";
import { safeRedirectTarget } from "../http/redirect-target.ts";
import {
  pendingSignInAnswerBody,
  pendingSignInAnswerOf,
  recoveryCodesResponse,
  totpEnrolmentResponse,
} from "../http/second-factor-body.ts";
import type { SecondFactorMethod } from "../mfa/second-factor-proof.ts";
import {
  enrolmentConfirmPage,
  enrolmentPage,
  enrolmentStartPage,
  recoveryCodesPage,
  secondFactorPage,
} from "../pages/second-factor-page.tsx";
import type { SignInDeps } from "../sign-in/complete.ts";
import { finishPendingEnrolment, startPendingEnrolment } from "../sign-in/pending-sign-in.ts";
import { meResponse, toMeResponse } from "../users/user-view.ts";

const authOperation = operationsOf({ tag: "auth", access: "anyone" });

// The second half of a sign-in for a user with a second factor: POST
// /auth/login (or a provider callback) left a pending sign-in's cookie; the
// second factor given here turns it into a session.

const finishBody = pendingSignInAnswerBody.extend({
  /** Forms only: where to go once signed in (an allowed target, else "/"). */
  redirect_to: z.string().max(2048).optional(),
});
const finishResponse = z.object({ user: meResponse });

const showSecondFactorFormOperation = operation("GET /auth/mfa", "showSecondFactorForm", {
  summary: "Second-factor form (HTML), where a sign-in that owes one continues",
  query: z.object({ redirect_to: z.string().max(2048).optional() }),
  responses: { 200: { description: "HTML form", contentType: "text/html", body: z.string() } },
  tag: "pages",
  access: "anyone",
});

const finishSignInOperation = authOperation("POST /auth/mfa", "finishSignInWithSecondFactor", {
  summary:
    "Finish a pending sign-in (its cookie, set by POST /auth/login or a provider callback) with a TOTP code, a recovery code or a passkey's answer (to POST /auth/mfa/passkey/options); sets the session cookie",
  bodyMediaTypes: ["application/json", "application/x-www-form-urlencoded"],
  body: finishBody,
  responses: {
    200: { description: "Signed in", body: finishResponse },
    400: { description: "Not exactly one of code, recovery_code and passkey, or invalid input" },
    ...signInRefusals(
      "The code or passkey is wrong or used (counts toward the lockout), or no live pending sign-in",
    ),
  },
});

const mfaTokenField = z.string().min(1).max(256).optional().meta({
  description:
    "A token client's mfa_token (from the password grant); a browser sends the pending sign-in's cookie instead",
});
const enrolBody = z.object({
  mfa_token: mfaTokenField,
  /** Forms only: where to go once signed in. */
  redirect_to: z.string().max(2048).optional(),
});
const enrolConfirmBody = enrolBody.extend({
  code: z.string().min(1, "Enter the code.").max(32, "Too long."),
});
const enrolledResponse = z.union([
  finishResponse.extend(recoveryCodesResponse.shape),
  tokenResponse.extend(recoveryCodesResponse.shape),
]);

const enrolmentRefusals = {
  400: { description: "Invalid input" },
  401: { description: "No live pending sign-in that owes an enrolment" },
};

const startEnrolmentOperation = authOperation("POST /auth/mfa/totp", "startSignInTotpEnrolment", {
  summary:
    "For a pending sign-in that owes a second factor (enrolment_required): start its TOTP enrolment",
  bodyMediaTypes: ["application/json", "application/x-www-form-urlencoded"],
  body: enrolBody,
  responses: {
    200: {
      description: "The secret to put into an authenticator app",
      body: totpEnrolmentResponse,
    },
    ...enrolmentRefusals,
    409: { description: "An authenticator is already on" },
  },
});

const confirmEnrolmentOperation = authOperation(
  "POST /auth/mfa/totp/confirm",
  "finishSignInWithTotpEnrolment",
  {
    summary:
      "Confirm that enrolment with the app's current code: TOTP is on and the sign-in finishes (a session cookie, or with mfa_token a token pair), with the first recovery codes",
    bodyMediaTypes: ["application/json", "application/x-www-form-urlencoded"],
    body: enrolConfirmBody,
    responses: {
      200: {
        description: "Signed in; the recovery codes, shown this once",
        body: enrolledResponse,
      },
      ...enrolmentRefusals,
      403: { description: "The account is inactive" },
      409: { description: "No enrolment started for this sign-in" },
      422: { description: "The code is not the app's current one (nothing changes)" },
      423: { description: "The account is locked (Retry-After)" },
      429: { description: "The sign-in rate limits of /auth/login (Retry-After)" },
    },
  },
);

const passkeyOptionsOperation = authOperation(
  "POST /auth/mfa/passkey/options",
  "startPasskeySecondFactor",
  {
    summary:
      "WebAuthn request options for answering the pending sign-in (its cookie) with one of the user's passkeys; the answer goes to POST /auth/mfa as `passkey`",
    responses: {
      200: {
        description: "Options for navigator.credentials.get()",
        body: passkeyOptionsResponse,
      },
      401: { description: "No live pending sign-in" },
      404: { description: "The user has no passkey" },
      429: { description: "The sign-in rate limit of this client (Retry-After)" },
    },
  },
);

export function secondFactorSignInRoutes(deps: SignInDeps) {
  const { config } = deps;
  const routes = new ApiRoutes();
  // The page offers the factors the pending sign-in's user has (all of
  // them when it is gone: the answer then says so).
  const page =
    (redirectTo: string, methods: readonly SecondFactorMethod[] | null) => (problem?: Problem) =>
      secondFactorPage(redirectTo, methods, problem);

  routes.add(showSecondFactorFormOperation, async (c) => {
    const redirectTo = safeRedirectTarget(c.req.query("redirect_to"), config.http);
    if (await browserPendingOwesEnrolment(c, deps)) {
      return htmlPage(c, enrolmentStartPage(redirectTo));
    }
    return htmlPage(c, page(redirectTo, await browserPendingSignInMethods(c, deps))());
  });

  routes.add(finishSignInOperation, async (c) => {
    const redirectTo = safeRedirectTarget(await formField(c, "redirect_to"), config.http);
    const methods = isFormPost(c) ? await browserPendingSignInMethods(c, deps) : null;
    return answering(c, page(redirectTo, methods), async (form) => {
      const answer = pendingSignInAnswerOf(await readBody(c, finishBody));
      const { user } = await finishBrowserSignIn(c, deps, answer);
      if (form) return c.redirect(redirectTo, 303);
      return c.json(finishResponse.parse({ user: toMeResponse(user) }));
    });
  });

  routes.add(startEnrolmentOperation, async (c) => {
    const redirectTo = safeRedirectTarget(await formField(c, "redirect_to"), config.http);
    return answering(
      c,
      (problem) => enrolmentStartPage(redirectTo, problem),
      async (form) => {
        const body = await readBody(c, enrolBody);
        const enrolment =
          body.mfa_token === undefined
            ? await startBrowserEnrolment(c, deps)
            : await startPendingEnrolment(deps, body.mfa_token, { kind: "token" });
        if (form) return htmlPage(c, enrolmentPage(redirectTo, enrolment));
        c.header("cache-control", "no-store");
        return c.json(totpEnrolmentResponse.parse(enrolment));
      },
    );
  });

  routes.add(confirmEnrolmentOperation, async (c) => {
    const redirectTo = safeRedirectTarget(await formField(c, "redirect_to"), config.http);
    return answering(
      c,
      (problem) => enrolmentConfirmPage(redirectTo, problem),
      async (form) => {
        const body = await readBody(c, enrolConfirmBody);
        c.header("cache-control", "no-store");
        if (body.mfa_token !== undefined) {
          const { pair, recoveryCodes } = await finishPendingEnrolment(
            deps,
            body.mfa_token,
            body.code,
            { kind: "token" },
            requestAuditFields(c),
          );
          c.header("pragma", "no-cache");
          return c.json(enrolledResponse.parse({ ...pair, recovery_codes: recoveryCodes }));
        }
        const { user, recoveryCodes } = await finishBrowserEnrolment(c, deps, body.code);
        if (form) return htmlPage(c, recoveryCodesPage(redirectTo, recoveryCodes));
        return c.json(
          enrolledResponse.parse({ user: toMeResponse(user), recovery_codes: recoveryCodes }),
        );
      },
    );
  });

  routes.add(passkeyOptionsOperation, async (c) => {
    const options = await browserPendingSignInPasskeyOptions(c, deps);
    c.header("cache-control", "no-store");
    return c.json(passkeyOptionsResponse.parse(options));
  });

  return routes;
}
