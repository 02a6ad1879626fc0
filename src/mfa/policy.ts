import type { CommonQueryMethods } from "slonik";
import { hasConfirmedTotp } from "../../sql/mfa-totp.ts";
import { hasPasskey } from "../../sql/passkeys.ts";
import type { User } from "../../sql/users.ts";
import type { Config } from "../config/index.ts";
import type { SignInIdentity } from "../gate/sign-in-grants.ts";

// MFA_REQUIRED: whom a second factor is required of. A covered user without
// one can, after the first factor, only enrol one (src/sign-in/second-factor.ts),
// and cannot turn off the last one they have.

/**
 * True when policy requires `user` to have a second factor. `identity` is
 * what the sign-in under way asserts: an ADMIN_EMAILS address that this very
 * sign-in will make an administrator is covered by `admins` already, or a
 * first sign-in would hand out an administrator's session on a password alone.
 */
export function secondFactorRequired(
  config: Pick<Config, "mfa" | "access">,
  user: Pick<User, "role" | "role_decided_at">,
  identity?: SignInIdentity | null,
): boolean {
  const policy = config.mfa.MFA_REQUIRED;
  if (policy === "all") return true;
  if (policy === "none") return false;
  if (user.role === "admin") return true;
  const email = identity?.emailVerified ? identity.email?.toLowerCase() : undefined;
  return (
    email !== undefined &&
    user.role_decided_at === null &&
    config.access.ADMIN_EMAILS.includes(email)
  );
}

/**
 * The provider asserted a second factor of its own (the OpenID Connect ID
 * token's `amr` names `mfa`, RFC 8176) and MFA_TRUST_PROVIDER_AMR says to
 * take its word for it.
 */
export function providerAssertedSecondFactor(
  config: Pick<Config, "mfa">,
  providerAmr: readonly string[] | undefined,
): boolean {
  return config.mfa.MFA_TRUST_PROVIDER_AMR && (providerAmr?.includes("mfa") ?? false);
}

/**
 * False when policy requires the user to have a second factor and none is
 * left (no confirmed authenticator app, no passkey): what a removal must
 * not do (`mfa_last_factor`). Read inside the removal's transaction, after
 * it, with the user locked (lockUserById).
 */
export async function keepsSecondFactorUnderPolicy(
  tx: CommonQueryMethods,
  config: Pick<Config, "mfa" | "access">,
  user: Pick<User, "id" | "role" | "role_decided_at">,
): Promise<boolean> {
  if (!secondFactorRequired(config, user)) return true;
  return (await hasConfirmedTotp(tx, user.id)) || (await hasPasskey(tx, user.id));
}
