import type { Context } from "hono";
import { z } from "zod";
import type { Config } from "../config/index.ts";
import { fieldError } from "../errors.ts";
import { ApiRoutes, operationsOf } from "../http/api-route.ts";
import type { AppEnv, Principal } from "../http/app-env.ts";
import { requestAuditFields } from "../http/audit-fields.ts";
import { answering, formField, isFormPost } from "../http/form-answers.ts";
import { readBody } from "../http/json-body.ts";
import { passkeyOptionsResponse } from "../http/passkey-bodies.ts";
import { safeRedirectTarget } from "../http/redirect-target.ts";
import { pendingSignInAnswerBody, pendingSignInAnswerOf } from "../http/second-factor-body.ts";
import { displayName } from "../pages/account-page.tsx";
import { stepUpPage } from "../pages/step-up-form.tsx";
import type { SignInDeps } from "../sign-in/complete.ts";
import {
  type ReauthProof,
  reauthenticate,
  reauthPasskeyOptions,
  stepUpProofOf,
} from "../sign-in/reauth.ts";

const signedInAuthOperation = operationsOf({ tag: "auth", access: "signed-in" });

// The step-up: a signed-in caller proves who they are again, so the
// changes behind the recent-auth guard pass for REAUTH_MAX_AGE.

const reauthBody = pendingSignInAnswerBody.extend({
  redirect_to: z.string().max(2048).optional().meta({
    description: "Forms only: where the browser goes once confirmed (an allowed target, else /)",
  }),
  password: z.string().max(1024, "Too long.").optional().meta({
    description: "The account's password (accounts without a second factor)",
  }),
});

const reauthResponse = z.object({
  authenticated_at: z.iso.datetime(),
  recent_until: z.iso
    .datetime()
    .meta({ description: "Changes that need a recent sign-in pass until then" }),
});

const reauthOperation = signedInAuthOperation("POST /auth/reauth", "reauthenticate", {
  summary:
    "Step up: prove it is you again (the second factor, or the password of an account without one); sensitive changes then pass for REAUTH_MAX_AGE. A form post is sent on to its redirect_to (303), or shown the step-up page again with the refusal",
  body: reauthBody,
  bodyMediaTypes: ["application/json", "application/x-www-form-urlencoded"],
  responses: {
    200: { description: "The session counts as recently authenticated", body: reauthResponse },
    303: { description: "A form post, confirmed: on to its redirect_to" },
    400: {
      description: "Not exactly one of password, code, recovery_code and passkey, or invalid input",
    },
    401: {
      description:
        "Not signed in; or the password, code, recovery code or passkey is wrong (counts toward the lockout)",
    },
    403: { description: "A password given for an account that has a second factor, or inactive" },
    409: { description: "A code given but no authenticator is on, or the account has no password" },
    423: { description: "The account is locked (Retry-After)" },
    429: { description: "The sign-in rate limits (Retry-After)" },
  },
});

/** The one proof the body gives; a 400 problem when it gives none or more than one. */
function proofOf(body: z.infer<typeof reauthBody>): ReauthProof {
  const password = body.password?.trim() ? body.password : undefined;
  const other = body.code?.trim() || body.recovery_code?.trim() || body.passkey !== undefined;
  if (password !== undefined && !other) return { kind: "password", password };
  if (password === undefined && other) return pendingSignInAnswerOf(body);
  throw fieldError(
    "validation_failed",
    "#/password",
    "Give one of: your password, a code from your authenticator, a recovery code, a passkey.",
  );
}

const passkeyOptionsOperation = signedInAuthOperation(
  "POST /auth/reauth/passkey/options",
  "startPasskeyReauthentication",
  {
    summary:
      "WebAuthn request options for stepping up with one of the signed-in user's passkeys; the answer goes to POST /auth/reauth as `passkey`",
    responses: {
      200: { description: "Options for navigator.credentials.get()", body: passkeyOptionsResponse },
      404: { description: "The user has no passkey" },
      429: { description: "The sign-in rate limit of this client (Retry-After)" },
    },
  },
);

export function reauthRoutes(deps: SignInDeps & { config: Config }) {
  const routes = new ApiRoutes();
  const principalOf = (c: Context<AppEnv>) => c.get("principal") as Principal;

  routes.add(passkeyOptionsOperation, async (c) => {
    const options = await reauthPasskeyOptions(
      deps,
      principalOf(c).user.user_id,
      requestAuditFields(c),
    );
    c.header("cache-control", "no-store");
    return c.json(passkeyOptionsResponse.parse(options));
  });

  routes.add(reauthOperation, async (c) => {
    const principal = principalOf(c);
    // A form (an account page's step-up) is answered in HTML: on to where it
    // came from, or the step-up again with the reason.
    const form = isFormPost(c);
    const redirectTo = safeRedirectTarget(await formField(c, "redirect_to"), deps.config.http);
    const stepUp = form ? await stepUpProofOf(deps.pool, principal.user.user_id) : "password";
    return answering(
      c,
      (problem) => stepUpPage(stepUp, redirectTo, displayName(principal.user), problem),
      async () => {
        const proof = proofOf(await readBody(c, reauthBody));
        const { authenticatedAt } = await reauthenticate(
          deps,
          { userId: principal.user.user_id, sessionId: principal.sessionId },
          proof,
          requestAuditFields(c),
        );
        if (form) return c.redirect(redirectTo, 303);
        c.header("cache-control", "no-store");
        return c.json(
          reauthResponse.parse({
            authenticated_at: authenticatedAt.toISOString(),
            recent_until: new Date(
              authenticatedAt.getTime() + deps.config.session.REAUTH_MAX_AGE,
            ).toISOString(),
          }),
        );
      },
    );
  });

  return routes;
}
