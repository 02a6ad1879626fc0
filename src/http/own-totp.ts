import type { Context } from "hono";
import {
  confirmTotpEnrolment,
  type MfaDeps,
  regenerateRecoveryCodes,
  removeTotp,
  startTotpEnrolment,
} from "../mfa/totp-enrolment.ts";
import type { AppEnv, Principal } from "./app-env.ts";
import { requestAuditFields } from "./audit-fields.ts";
import { readBody } from "./json-body.ts";
import {
  secondFactorAnswerOf,
  secondFactorBody,
  totpConfirmationBody,
} from "./second-factor-body.ts";

// The caller's own authenticator app, changed alike by /me/mfa and the
// account security page's forms: the request's body read, the change made
// for the signed-in user (both routes sit behind the signed-in gate).

const userOf = (c: Context<AppEnv>) => (c.get("principal") as Principal).user;

export const ownTotp = {
  /** A new secret, on only once confirmed. */
  start: (c: Context<AppEnv>, deps: MfaDeps) => {
    const user = userOf(c);
    return startTotpEnrolment(deps, { id: user.user_id, email: user.email });
  },

  /** On, with the app's current code; the first recovery codes. */
  confirm: async (c: Context<AppEnv>, deps: MfaDeps) => {
    const { code } = await readBody(c, totpConfirmationBody);
    return confirmTotpEnrolment(deps, userOf(c).user_id, code, requestAuditFields(c));
  },

  /** A new set of recovery codes, for a current code or a recovery code. */
  renewRecoveryCodes: async (c: Context<AppEnv>, deps: MfaDeps) => {
    const answer = secondFactorAnswerOf(await readBody(c, secondFactorBody));
    return regenerateRecoveryCodes(deps, userOf(c).user_id, answer, requestAuditFields(c));
  },

  /** Off (its recovery codes too), for a current code or a recovery code. */
  remove: async (c: Context<AppEnv>, deps: MfaDeps) => {
    const answer = secondFactorAnswerOf(await readBody(c, secondFactorBody));
    await removeTotp(deps, userOf(c).user_id, answer, requestAuditFields(c));
  },
};
