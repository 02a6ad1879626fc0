import { z } from "zod";
import { isPrintableText } from "../text-input.ts";

// A passkey ceremony's answer as the browser sends it: the JSON form of a
// PublicKeyCredential (WebAuthn Level 3's toJSON(), which
// @simplewebauthn/browser produces), binary fields base64url. Every field is
// bounded here, so a malformed answer is a 400 before any check runs.

const base64url = (max: number) =>
  z
    .string()
    .max(max, "Too long.")
    .regex(/^[A-Za-z0-9_-]*$/, "Expected base64url.");

/** A credential id: at most 1023 bytes (WebAuthn §5.1). */
const credentialId = base64url(1364).min(1, "Missing.");

const credentialFields = {
  id: credentialId,
  rawId: credentialId,
  type: z.literal("public-key"),
  authenticatorAttachment: z.enum(["platform", "cross-platform"]).optional(),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
};

/** The answer of navigator.credentials.get(): an assertion. */
export const passkeyAssertionInput = z
  .object({
    ...credentialFields,
    response: z.object({
      clientDataJSON: base64url(8192).min(1, "Missing."),
      authenticatorData: base64url(8192).min(1, "Missing."),
      signature: base64url(2048).min(1, "Missing."),
      userHandle: base64url(128).optional(),
    }),
  })
  .meta({
    id: "PasskeyAssertion",
    description:
      "A WebAuthn assertion (AuthenticationResponseJSON), as @simplewebauthn/browser's startAuthentication() returns it",
  });

/** The answer of navigator.credentials.create(): a new credential. */
export const passkeyRegistrationInput = z
  .object({
    ...credentialFields,
    response: z.object({
      clientDataJSON: base64url(8192).min(1, "Missing."),
      attestationObject: base64url(32768).min(1, "Missing."),
      authenticatorData: base64url(32768).optional(),
      transports: z.array(z.string().max(32)).max(8).optional(),
      publicKeyAlgorithm: z.number().int().optional(),
      publicKey: base64url(8192).optional(),
    }),
  })
  .meta({
    id: "PasskeyRegistration",
    description:
      "A new WebAuthn credential (RegistrationResponseJSON), as @simplewebauthn/browser's startRegistration() returns it",
  });

/** What the user calls a passkey ("Laptop", "Phone"): shown in their list. */
export const passkeyNameInput = z
  .string()
  .trim()
  .min(1, "Give the passkey a name.")
  .max(64, "Use at most 64 characters.")
  .refine(isPrintableText, "Use printable characters only.");

/**
 * Options for the browser's WebAuthn call, passed to
 * @simplewebauthn/browser as `optionsJSON` (WebAuthn's
 * PublicKeyCredentialCreationOptionsJSON or PublicKeyCredentialRequestOptionsJSON).
 */
export const passkeyOptionsResponse = z
  .looseObject({ challenge: z.string() })
  .meta({ description: "WebAuthn options (JSON), for navigator.credentials" });
