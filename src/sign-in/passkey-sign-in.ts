import type { PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import type { DatabasePool } from "slonik";
import { findUserById } from "../../sql/users.ts";
import type { Config } from "../config/index.ts";
import { DomainError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { assertionOptions, type PasskeyAssertion, provePasskey } from "../passkeys/assertion.ts";
import { relyingPartyOf } from "../passkeys/relying-party.ts";
import type { RateLimitStore } from "../rate-limits/rate-limit-stores.ts";
import { clientNetwork, enforceRateLimit } from "../rate-limits/rate-limiter.ts";
import { recordSignInFailure } from "./failures.ts";
import type { FirstFactor } from "./first-factor.ts";

// Signing in with a passkey alone: the browser asks its authenticators for
// any passkey of ours (a discoverable credential names its user), the user
// unlocks it (user verification: a PIN or a biometric), and the signed
// answer is the whole sign-in. Something the user has (the authenticator's
// key) and something they are or know (what unlocked it) are two factors,
// so no second factor is owed after it: completeSignIn records
// amr ["hwk" or "swk", "user", "mfa"] (RFC 8176).

export type PasskeySignInDeps = {
  config: Pick<Config, "http" | "limits">;
  pool: DatabasePool;
  rateLimitStore: RateLimitStore;
  logger: Logger;
};

type RequestFacts = { ip: string | null; userAgent: string | null };

/**
 * Options for a passwordless sign-in. Anyone may ask, and each answer stores
 * a challenge, so it counts against the client's sign-in rate limit
 * (RATE_LIMIT_LOGIN_IP, the password sign-in's counter): a verify needs a
 * live challenge, so this one limit bounds the attempts too.
 */
export async function passkeySignInOptions(
  deps: PasskeySignInDeps,
  request: RequestFacts,
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  await enforceRateLimit(
    { store: deps.rateLimitStore, pool: deps.pool, logger: deps.logger },
    {
      name: "login_ip",
      key: clientNetwork(request.ip),
      setting: deps.config.limits.RATE_LIMIT_LOGIN_IP,
      audit: request,
    },
  );
  return assertionOptions(deps.pool, relyingPartyOf(deps.config.http), { purpose: "sign_in" });
}

/**
 * Checks a passkey assertion (src/passkeys/assertion.ts) and returns the
 * proved factor for completeSignIn. A refusal is `passkey_not_accepted`, one
 * answer whatever failed, recorded as `login.failed` (method `passkey`, the
 * reason: passkey_challenge, passkey_unknown, passkey_signature,
 * passkey_counter). It does not count toward the account's lockout: a
 * signature cannot be guessed, and anyone who learned a credential id could
 * otherwise lock its owner out.
 */
export async function verifyPasskeySignIn(
  deps: PasskeySignInDeps,
  assertion: PasskeyAssertion,
  request: RequestFacts,
): Promise<FirstFactor> {
  const rp = relyingPartyOf(deps.config.http);
  const result = await provePasskey(deps.pool, rp, assertion, { purpose: "sign_in" });
  const user = result.ok ? await findUserById(deps.pool, result.proved.passkey.user_id) : null;
  if (!result.ok || !user) {
    await recordSignInFailure(deps.pool, deps.logger, {
      method: "passkey",
      reason: result.ok ? "passkey_unknown" : result.reason,
      userId: result.ok ? null : (result.passkey?.user_id ?? null),
      ...request,
    });
    throw new DomainError("passkey_not_accepted");
  }
  const { passkey, keyAmr } = result.proved;
  return {
    user,
    method: "passkey",
    passkey: { amr: [keyAmr, "user", "mfa"] },
    context: { passkey_id: passkey.id },
  };
}
