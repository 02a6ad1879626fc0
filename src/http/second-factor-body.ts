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

/** A TOTP enrolment's secret, as an authenticator app reads it. */
export const totpEnrolmentResponse = z.object({
  secret: z.string().meta({ description: "Base32, for typing into an authenticator app" }),
  otpauth_url: z
    .string()
    .meta({ description: "otpauth://totp/... (RFC 6238, SHA-1, 6 digits, 30 s)" }),
  qr_svg: z.string().meta({ description: "The otpauth URL as a QR code (SVG)" }),
});

/** An enrolment's confirmation: the new authenticator's current code. */
export const totpConfirmationBody = z.object({
  code: z.string().min(1, "Enter the code.").max(32, "Too long."),
});

export const recoveryCodesResponse = z.object({
  recovery_codes: z.array(z.string()).meta({ description: "10 single-use codes, shown this once" }),
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
  mfa_token: z.string().meta({
    description:
      "Good for one mfa grant within 5 minutes; or, with enrolment_required, for POST /auth/mfa/totp and /auth/mfa/totp/confirm",
  }),
  methods: z.array(secondFactorMethodNames),
  enrolment_required: z.literal(true).optional().meta({
    description:
      "Policy requires a second factor the account lacks: enrol one (POST /auth/mfa/totp with mfa_token) to finish",
  }),
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
