import { z } from "zod";
import { fieldError } from "../errors.ts";
import type { SecondFactorAnswer } from "../mfa/second-factor-proof.ts";
import { passkeyAssertionInput } from "./passkey-bodies.ts";

// A second factor as a request gives it: `code` (the six digits of an
// authenticator app) or `recovery_code`, exactly one. A form sends both
// fields, the unused one empty.

const present = (value: string | undefined) =>
  value === undefined || value.trim() === "" ? undefined : value;

export const secondFactorBody = z.object({
  code: z.string().max(32, "Too long.").optional().meta({ description: "TOTP code, six digits" }),
  recovery_code: z
    .string()
    .max(64, "Too long.")
    .optional()
    .meta({ description: "One of the recovery codes (single use)" }),
});

/** The one answer the body gives; a 400 problem when it gives none or both. */
export function secondFactorAnswerOf(body: z.infer<typeof secondFactorBody>): SecondFactorAnswer {
  const code = present(body.code);
  const recovery = present(body.recovery_code);
  if (code !== undefined && recovery === undefined) return { kind: "totp", code };
  if (recovery !== undefined && code === undefined)
    return { kind: "recovery_code", code: recovery };
  throw fieldError(
    "validation_failed",
    "#/code",
    "Enter the code from your authenticator app, or a recovery code (one of them).",
  );
}

// Finishing a pending sign-in (POST /auth/mfa) also takes a passkey's
// answer, from the second-factor page's script: `passkey`, alone.

export const pendingSignInAnswerBody = secondFactorBody.extend({
  passkey: passkeyAssertionInput.optional(),
});

/** The one answer to a pending sign-in: a passkey's, or else a code as secondFactorAnswerOf reads it. */
export function pendingSignInAnswerOf(
  body: z.infer<typeof pendingSignInAnswerBody>,
): SecondFactorAnswer {
  if (body.passkey === undefined) return secondFactorAnswerOf(body);
  if (present(body.code) !== undefined || present(body.recovery_code) !== undefined) {
    throw fieldError("validation_failed", "#/passkey", "Give a passkey or a code, not both.");
  }
  return { kind: "passkey", assertion: body.passkey };
}

/** The second factors a pending sign-in can be finished with (a token client: the codes only). */
export const secondFactorMethodNames = z.enum(["totp", "recovery_code", "passkey"]);

// The token endpoint's form of the same: a password grant that answered
// mfa_required is finished with the mfa grant, its mfa_token and either a
// TOTP code (`otp`) or a recovery code.

export const mfaGrantType = "urn:gatehouse:params:oauth:grant-type:mfa";

export const mfaGrant = z.object({
  grant_type: z.literal(mfaGrantType),
  mfa_token: z.string().min(1).max(256),
  otp: z.string().min(1).max(32).optional(),
  recovery_code: z.string().min(1).max(64).optional(),
});

/** The password was right and a second factor is owed: finish with the mfa grant. */
export const mfaRequiredError = z.object({
  error: z.literal("mfa_required"),
  error_description: z.string(),
  code: z.literal("mfa_required"),
  mfa_token: z.string().meta({ description: "Good for one mfa grant within 5 minutes" }),
  methods: z.array(secondFactorMethodNames),
});

/** The one second factor an mfa grant gives; null when it gives none or both. */
export function secondFactorOfGrant(grant: z.infer<typeof mfaGrant>): SecondFactorAnswer | null {
  if (grant.otp !== undefined && grant.recovery_code === undefined) {
    return { kind: "totp", code: grant.otp };
  }
  if (grant.recovery_code !== undefined && grant.otp === undefined) {
    return { kind: "recovery_code", code: grant.recovery_code };
  }
  return null;
}
