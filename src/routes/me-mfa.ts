import type { Context } from "hono";
import { z } from "zod";
import { ApiRoutes, operationsOf } from "../http/api-route.ts";
import type { AppEnv, Principal } from "../http/app-env.ts";
import { ownTotp } from "../http/own-totp.ts";
import {
  totpEnrolmentResponse as enrolmentResponse,
  recoveryCodesResponse,
  secondFactorBody,
  totpConfirmationBody,
} from "../http/second-factor-body.ts";
import { secondFactorStatus } from "../mfa/second-factor-status.ts";
import type { MfaDeps } from "../mfa/totp-enrolment.ts";

// The signed-in user's own second factors.

const mfaOperation = operationsOf({ tag: "account", access: "signed-in" });

const statusResponse = z.object({
  totp: z.object({ enabled: z.boolean(), confirmed_at: z.string().nullable() }),
  recovery_codes_left: z.number().int(),
});

const secondFactorRefusals = {
  400: { description: "Neither or both of code and recovery_code, or invalid input" },
  403: { description: "The second factor given is wrong or used (counts toward the lockout)" },
  409: { description: "No authenticator is on" },
  423: { description: "The account is locked after too many wrong codes" },
};

const getSecondFactorsOperation = mfaOperation("GET /me/mfa", "getOwnSecondFactors", {
  summary: "Which second factors the signed-in user has",
  responses: { 200: { description: "The second factors", body: statusResponse } },
});

const startTotpOperation = mfaOperation("POST /me/mfa/totp", "startTotpEnrolment", {
  summary:
    "Start TOTP enrolment: a new secret, its otpauth:// URL and QR code; on only once confirmed (needs a recent sign-in)",
  recentAuth: true,
  responses: {
    200: { description: "The secret to put into an authenticator app", body: enrolmentResponse },
    409: { description: "An authenticator is already on" },
  },
});

const confirmTotpOperation = mfaOperation("POST /me/mfa/totp/confirm", "confirmTotpEnrolment", {
  summary: "Confirm TOTP enrolment with the app's current code: TOTP is on, recovery codes follow",
  body: totpConfirmationBody,
  responses: {
    200: { description: "TOTP is on; the first recovery codes", body: recoveryCodesResponse },
    400: { description: "Invalid input" },
    409: { description: "No enrolment started, or TOTP is on already" },
    422: { description: "The code is not the app's current one" },
  },
});

const removeTotpOperation = mfaOperation("DELETE /me/mfa/totp", "removeTotp", {
  summary:
    "Turn TOTP off (its recovery codes too); needs a recent sign-in and a current code or a recovery code",
  body: secondFactorBody,
  recentAuth: true,
  responses: {
    204: { description: "TOTP is off" },
    ...secondFactorRefusals,
    409: {
      description:
        "No authenticator is on (mfa_not_enrolled), or policy requires a second factor and this is the last one (mfa_last_factor)",
    },
  },
});

const renewRecoveryCodesOperation = mfaOperation(
  "POST /me/mfa/recovery-codes",
  "renewRecoveryCodes",
  {
    summary:
      "A new set of 10 recovery codes (the old set dies); needs a recent sign-in and a current code or a recovery code",
    body: secondFactorBody,
    recentAuth: true,
    responses: {
      200: { description: "The new codes, shown this once", body: recoveryCodesResponse },
      ...secondFactorRefusals,
    },
  },
);

export function meMfaRoutes(deps: MfaDeps) {
  const routes = new ApiRoutes();
  // Behind the signed-in gate, so there is a principal.
  const userOf = (c: Context<AppEnv>) => (c.get("principal") as Principal).user;

  routes.add(getSecondFactorsOperation, async (c) => {
    const status = await secondFactorStatus(deps.pool, userOf(c).user_id);
    return c.json(statusResponse.parse(status));
  });

  routes.add(startTotpOperation, async (c) => {
    const enrolment = await ownTotp.start(c, deps);
    c.header("cache-control", "no-store");
    return c.json(enrolmentResponse.parse(enrolment));
  });

  routes.add(confirmTotpOperation, async (c) => {
    const codes = await ownTotp.confirm(c, deps);
    c.header("cache-control", "no-store");
    return c.json(recoveryCodesResponse.parse({ recovery_codes: codes }));
  });

  routes.add(removeTotpOperation, async (c) => {
    await ownTotp.remove(c, deps);
    return c.body(null, 204);
  });

  routes.add(renewRecoveryCodesOperation, async (c) => {
    const codes = await ownTotp.renewRecoveryCodes(c, deps);
    c.header("cache-control", "no-store");
    return c.json(recoveryCodesResponse.parse({ recovery_codes: codes }));
  });

  return routes;
}
