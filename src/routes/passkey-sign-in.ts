import { z } from "zod";
import { loginResponse, mfaRequiredResponse } from "../http/account-schemas.ts";
import { ApiRoutes, operationsOf } from "../http/api-route.ts";
import { requestAuditFields } from "../http/audit-fields.ts";
import { answerBrowserSignIn } from "../http/browser-sign-in.ts";
import { readBody } from "../http/json-body.ts";
import { passkeyAssertionInput, passkeyOptionsResponse } from "../http/passkey-bodies.ts";
import type { SignInDeps } from "../sign-in/complete.ts";
import { passkeySignInOptions, verifyPasskeySignIn } from "../sign-in/passkey-sign-in.ts";

// Passwordless sign-in with a passkey (src/sign-in/passkey-sign-in.ts): the
// sign-in page's script asks for options, lets the browser's authenticator
// sign the challenge, and posts the answer back; a session cookie follows.

const passkeyOperation = operationsOf({ tag: "auth", access: "anyone" });

const verifyBody = z.object({ passkey: passkeyAssertionInput });

const optionsOperation = passkeyOperation("POST /auth/passkey/options", "startPasskeySignIn", {
  summary:
    "Start a passwordless sign-in: WebAuthn request options with a fresh challenge (5 minutes, single use) for any discoverable passkey",
  responses: {
    200: { description: "Options for navigator.credentials.get()", body: passkeyOptionsResponse },
    429: { description: "The sign-in rate limit of this client (Retry-After)" },
  },
});

const verifyOperation = passkeyOperation("POST /auth/passkey/verify", "finishPasskeySignIn", {
  summary:
    "Finish a passwordless sign-in with the passkey's answer (user verification required); sets the session cookie. A complete sign-in: no second factor follows",
  body: verifyBody,
  responses: {
    200: { description: "Signed in", body: z.union([loginResponse, mfaRequiredResponse]) },
    400: { description: "Invalid input" },
    401: {
      description:
        "The passkey was not accepted (unknown, wrong signature or origin, no user verification, challenge expired or used, counter went backwards)",
    },
    403: { description: "The account is inactive" },
    423: { description: "The account is locked (Retry-After)" },
  },
});

export function passkeySignInRoutes(deps: SignInDeps) {
  const routes = new ApiRoutes();

  routes.add(optionsOperation, async (c) => {
    const options = await passkeySignInOptions(deps, requestAuditFields(c));
    c.header("cache-control", "no-store");
    return c.json(passkeyOptionsResponse.parse(options));
  });

  routes.add(verifyOperation, async (c) => {
    const { passkey } = await readBody(c, verifyBody);
    const factor = await verifyPasskeySignIn(deps, passkey, requestAuditFields(c));
    // JSON only (the page's script posts it); a passkey sign-in owes nothing more.
    return answerBrowserSignIn(c, deps, factor, { form: false, redirectTo: "/" });
  });

  return routes;
}
