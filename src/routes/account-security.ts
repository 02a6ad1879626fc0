import type { Context } from "hono";
import { z } from "zod";
import { ApiRoutes, operationsOf } from "../http/api-route.ts";
import type { AppEnv, Principal } from "../http/app-env.ts";
import { errorMessage } from "../http/error-map.ts";
import {
  formMediaTypes,
  htmlPage,
  htmlResponse,
  pageAgainIfRefused,
} from "../http/form-answers.ts";
import { ownTotp } from "../http/own-totp.ts";
import { Problem } from "../http/problem.ts";
import { assertRecentAuthOf, hasRecentAuth } from "../http/recent-auth.ts";
import { secondFactorBody, totpConfirmationBody } from "../http/second-factor-body.ts";
import { securityOverview } from "../mfa/security-overview.ts";
import type { MfaDeps } from "../mfa/totp-enrolment.ts";
import { displayName } from "../pages/account-page.tsx";
import {
  accountSecurityPage,
  enrolmentPage,
  recoveryCodesPage,
  securityNotice,
  securityPath,
} from "../pages/account-security-page.tsx";

// The account security page and its forms: the same domain functions as
// /me/mfa, answered in HTML. A form's change runs only in a session with a
// recent sign-in, as the JSON routes' do; a refused form gets the page again
// with the refusal shown (a missing step-up as the step-up form), so the
// browser never lands on a JSON problem. Every POST passes the CSRF check
// of every other form (src/http/csrf.ts).

const pageOperation = operationsOf({ tag: "pages", access: "signed-in" });
const html = htmlResponse;
const refusedForm = {
  400: html("Invalid input: the page again, with the refusal shown"),
  401: html(
    "The last sign-in or step-up is older than REAUTH_MAX_AGE (the page offers the step-up), or a wrong code; not signed in: a problem+json",
  ),
};
const proofRefusals = {
  ...refusedForm,
  403: html("The code or recovery code is wrong or used (counts toward the lockout)"),
  409: html("No authenticator is on; or policy requires it as the last second factor"),
  423: html("The account is locked after too many wrong codes"),
};

const showOperation = pageOperation("GET /account/security", "showAccountSecurityPage", {
  summary: "The signed-in user's second factors and passkeys, to manage with forms (HTML)",
  query: z.object({ notice: z.string().max(32).optional() }),
  // Without a session the page sends the browser to sign in and come back.
  accessCheckedByHandler: true,
  responses: {
    200: html("HTML page"),
    303: { description: "Not signed in: to the sign-in page, which comes back here" },
  },
});

const startOperation = pageOperation("POST /account/security/totp", "startTotpEnrolmentForm", {
  summary:
    "Form: start setting up an authenticator app; the page shows the key as a QR code and as text (needs a recent sign-in)",
  recentAuth: "checked-by-handler",
  responses: {
    200: html("The key to put into the app, and the form for its first code"),
    ...refusedForm,
    409: html("An authenticator is already on"),
  },
});

const confirmOperation = pageOperation(
  "POST /account/security/totp/confirm",
  "confirmTotpEnrolmentForm",
  {
    summary: "Form: turn the authenticator app on with its current code; shows the recovery codes",
    body: totpConfirmationBody,
    bodyMediaTypes: formMediaTypes,
    responses: {
      200: html("The authenticator is on; the recovery codes, shown this once"),
      ...refusedForm,
      409: html("No set-up started, or an authenticator is on already"),
      422: html("The code is not the app's current one (nothing changes)"),
    },
  },
);

const renewOperation = pageOperation(
  "POST /account/security/recovery-codes",
  "renewRecoveryCodesForm",
  {
    summary:
      "Form: a new set of recovery codes (the old set dies); needs a recent sign-in and a current code or recovery code",
    body: secondFactorBody,
    bodyMediaTypes: formMediaTypes,
    recentAuth: "checked-by-handler",
    responses: { 200: html("The new codes, shown this once"), ...proofRefusals },
  },
);

const turnOffOperation = pageOperation("POST /account/security/totp/off", "removeTotpForm", {
  summary:
    "Form: turn the authenticator app off (its recovery codes too); needs a recent sign-in and a current code or recovery code",
  body: secondFactorBody,
  bodyMediaTypes: formMediaTypes,
  recentAuth: "checked-by-handler",
  responses: {
    303: { description: "Off: back to the page, which says so" },
    ...proofRefusals,
  },
});

/** A refusal in the page's own words: the step-up form is right there. */
function inPageWords(problem: Problem): Problem {
  if (problem.code !== "reauth_required") return problem;
  const { code, status, title, extra } = problem;
  return new Problem(code, status, title, errorMessage("reauth_required"), extra);
}

export function accountSecurityRoutes(deps: MfaDeps) {
  const routes = new ApiRoutes();
  // Behind the signed-in gate (the page itself checks), so there is a principal.
  const userOf = (c: Context<AppEnv>) => (c.get("principal") as Principal).user;
  const nameOf = (c: Context<AppEnv>) => displayName(userOf(c));

  const page = async (
    c: Context<AppEnv>,
    shown: { notice?: string | undefined; problem?: Problem },
  ) => {
    const [overview, recent] = await Promise.all([
      securityOverview(deps, userOf(c).user_id),
      hasRecentAuth(c),
    ]);
    return accountSecurityPage({ overview, recent, signedInAs: nameOf(c), ...shown });
  };

  /** Runs a form's change; a refusal shows the page again, as it now is, with the reason. */
  const answering = (c: Context<AppEnv>, run: () => Promise<Response>) =>
    pageAgainIfRefused(c, (problem) => page(c, { problem: inPageWords(problem) }), run);

  routes.add(showOperation, async (c) => {
    if (!c.get("principal")) {
      return c.redirect(`/?redirect_to=${encodeURIComponent(securityPath)}`, 303);
    }
    return htmlPage(c, await page(c, { notice: securityNotice(c.req.query("notice")) }));
  });

  routes.add(startOperation, (c) =>
    answering(c, async () => {
      await assertRecentAuthOf(c);
      const enrolment = await ownTotp.start(c, deps);
      return htmlPage(c, enrolmentPage(enrolment, nameOf(c)));
    }),
  );

  routes.add(confirmOperation, (c) =>
    answering(c, async () => {
      const codes = await ownTotp.confirm(c, deps);
      return htmlPage(c, recoveryCodesPage(codes, true, nameOf(c)));
    }),
  );

  routes.add(renewOperation, (c) =>
    answering(c, async () => {
      await assertRecentAuthOf(c);
      const codes = await ownTotp.renewRecoveryCodes(c, deps);
      return htmlPage(c, recoveryCodesPage(codes, false, nameOf(c)));
    }),
  );

  routes.add(turnOffOperation, (c) =>
    answering(c, async () => {
      await assertRecentAuthOf(c);
      await ownTotp.remove(c, deps);
      return c.redirect(`${securityPath}?notice=totp_off`, 303);
    }),
  );

  return routes;
}
