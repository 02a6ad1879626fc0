import { z } from "zod";
import type { RuntimeConfig } from "./runtime.ts";
import { boolean } from "./values.ts";

/** Who must have a second factor, and whether a provider's word for one is taken. */
export const mfaSchema = z.object({
  /**
   * none: a second factor is optional; admins: administrators must have one;
   * all: everyone must. Unset: admins in production, none otherwise.
   */
  MFA_REQUIRED: z
    .enum(["none", "admins", "all"], { message: "expected none, admins or all" })
    .optional(),
  /**
   * A provider sign-in whose OpenID Connect ID token says `amr` contains
   * `mfa` counts as having given a second factor. Off by default: it trusts
   * the issuer's account security as our own.
   */
  MFA_TRUST_PROVIDER_AMR: boolean(false),
});

export type MfaPolicy = "none" | "admins" | "all";

/** The section with its production-dependent default filled in. */
export type MfaConfig = Omit<z.infer<typeof mfaSchema>, "MFA_REQUIRED"> & {
  MFA_REQUIRED: MfaPolicy;
};

export function completeMfa(parsed: z.infer<typeof mfaSchema>, runtime: RuntimeConfig): MfaConfig {
  // A production deployment's administrators hold every account's keys: a
  // stolen admin password alone must not be enough there.
  const fallback: MfaPolicy = runtime.NODE_ENV === "production" ? "admins" : "none";
  return { ...parsed, MFA_REQUIRED: parsed.MFA_REQUIRED ?? fallback };
}
