import type { User } from "../../sql/users.ts";
import type { SignInIdentity } from "../gate/sign-in-grants.ts";
import type { SecondFactorAnswer } from "../mfa/second-factor-proof.ts";

export type AuditContext = Record<string, string | number | boolean | null>;

/** What a way in proved before calling completeSignIn. */
export type FirstFactor = {
  user: User;
  /** For audit and metrics: password, token (the password grant), github, google, oidc, ... */
  method: string;
  /** What the grants read; the user's own verified address when absent. */
  identity?: SignInIdentity;
  /**
   * A password was checked: its success clears the failure count and lockout
   * history, and replaces a hash made with a weaker cost than configured.
   */
  password?: { rehash: { verifiedHash: string; newHash: string } | null };
  /**
   * Another secret of the account was checked (a mailed sign-in code): like
   * a password's, its success clears the failure count and lockout history.
   */
  provedSecret?: boolean;
  /**
   * A passkey with user verification signed in by itself: possession and
   * the user's PIN or biometric are two factors, so no second factor is owed;
   * `amr` is what it proved (RFC 8176).
   */
  passkey?: { amr: string[] };
  /** Extra facts for `login.succeeded` (a provider sign-in: created, linked). */
  context?: AuditContext;
  /**
   * The authentication methods the provider asserted (an OpenID Connect ID
   * token's `amr`): `mfa` in it passes for a second factor when
   * MFA_TRUST_PROVIDER_AMR allows.
   */
  providerAmr?: readonly string[];
  /** Finishing a pending sign-in (src/sign-in/pending-sign-in.ts): the second factor given. */
  secondFactor?: SecondFactorGiven;
};

/**
 * A pending sign-in being finished: which one, and the second factor given
 * for it, or (a pending sign-in that owes an enrolment) the first code of
 * the authenticator being enrolled.
 */
export type SecondFactorGiven =
  | { pendingId: string; answer: SecondFactorAnswer }
  | { pendingId: string; enrolmentCode: string };

/** How the result is handed over: a browser gets a session cookie, a token client a token pair. */
export type Door = { kind: "browser"; replaces: string | null } | { kind: "token" };
