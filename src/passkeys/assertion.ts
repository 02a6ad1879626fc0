import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  type PublicKeyCredentialRequestOptionsJSON,
  verifyAuthenticationResponse,
} from "@simplewebauthn/server";
import type { CommonQueryMethods } from "slonik";
import {
  findPasskeyByCredentialId,
  listPasskeysOfUser,
  type PasskeyRow,
  recordPasskeyUse,
} from "../../sql/passkeys.ts";
import { ceremonyTimeoutMs, issueChallenge, takeChallengeOf } from "./challenges.ts";
import { type RelyingParty, userHandleOf } from "./relying-party.ts";

// Proving a passkey: options for the browser (a fresh challenge), then the
// signed response checked against the stored public key. The cryptography
// and the response's structure are @simplewebauthn/server's; which challenge
// is live, which passkey may answer for whom, and that the signature counter
// only goes up are ours, settled by the database.

export type PasskeyAssertion = AuthenticationResponseJSON;

/**
 * The two ceremonies an assertion serves: signing in without anything else
 * (any user's discoverable passkey, user verification required), or the
 * second factor of a known user's pending sign-in (only that user's passkeys;
 * the password was the knowledge factor, so presence is enough).
 */
export type AssertionCeremony =
  | { purpose: "sign_in" }
  | { purpose: "second_factor"; userId: string };

export type ProvedPasskey = {
  passkey: PasskeyRow;
  /**
   * RFC 8176: `hwk` for a key bound to one authenticator, `swk` for a
   * synced (multi-device) passkey, whose key also lives in its provider's
   * software.
   */
  keyAmr: "hwk" | "swk";
};

export type AssertionRefusal =
  | "passkey_challenge"
  | "passkey_unknown"
  | "passkey_signature"
  | "passkey_counter";

/** Options for navigator.credentials.get(): a stored challenge, and which passkeys may answer. */
export async function assertionOptions(
  db: CommonQueryMethods,
  rp: RelyingParty,
  ceremony: AssertionCeremony,
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const userId = ceremony.purpose === "second_factor" ? ceremony.userId : null;
  const challenge = await issueChallenge(db, ceremony.purpose, userId);
  // Signing in, the browser offers whichever passkeys it holds for us (the
  // account is not known yet); as a second factor, only the user's own.
  const allowCredentials = userId
    ? (await listPasskeysOfUser(db, userId)).map((p) => ({
        id: p.credential_id.toString("base64url"),
        transports: p.transports,
      }))
    : [];
  return generateAuthenticationOptions({
    rpID: rp.id,
    challenge,
    allowCredentials,
    timeout: ceremonyTimeoutMs,
    userVerification: ceremony.purpose === "sign_in" ? "required" : "preferred",
  });
}

/**
 * Checks an assertion and records the passkey's use, each step settled by
 * one statement (run them in the caller's transaction, or alone):
 *  1. its challenge is taken (a live one of this ceremony, and user): single use;
 *  2. its passkey is known (and, as a second factor, the user's own; signing
 *     in, the user handle the authenticator returns must be its owner's);
 *  3. origin, relying party, user presence (and verification when signing
 *     in) and the signature check out;
 *  4. the signature counter rises past the stored one, or both are 0 for an
 *     authenticator that keeps none: a clone that fell behind, or a replayed
 *     response, is refused; the backup state and last use are stored.
 */
export async function provePasskey(
  db: CommonQueryMethods,
  rp: RelyingParty,
  assertion: PasskeyAssertion,
  ceremony: AssertionCeremony,
): Promise<
  | { ok: true; proved: ProvedPasskey }
  | { ok: false; reason: AssertionRefusal; passkey: PasskeyRow | null }
> {
  const userId = ceremony.purpose === "second_factor" ? ceremony.userId : null;
  const challenge = await takeChallengeOf(
    db,
    assertion.response.clientDataJSON,
    ceremony.purpose,
    userId,
  );
  const credentialId = Buffer.from(assertion.id, "base64url");
  const found =
    credentialId.toString("base64url") === assertion.id
      ? await findPasskeyByCredentialId(db, credentialId)
      : null;
  const passkey = found && (userId === null || found.user_id === userId) ? found : null;
  // The passkey, when known, only names whose failure it was (for the audit trail).
  if (!challenge) return { ok: false, reason: "passkey_challenge", passkey };
  if (!passkey) return { ok: false, reason: "passkey_unknown", passkey: null };
  if (
    ceremony.purpose === "sign_in" &&
    assertion.response.userHandle !==
      Buffer.from(userHandleOf(passkey.user_id)).toString("base64url")
  ) {
    return { ok: false, reason: "passkey_unknown", passkey };
  }

  let verified: Awaited<ReturnType<typeof verifyAuthenticationResponse>>;
  try {
    verified = await verifyAuthenticationResponse({
      response: assertion,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      credential: {
        id: assertion.id,
        publicKey: new Uint8Array(passkey.public_key),
        counter: passkey.counter,
        transports: passkey.transports,
      },
      requireUserVerification: ceremony.purpose === "sign_in",
    });
  } catch (error) {
    // The library checks the counter before the signature: "counter" is what
    // it says, not proof of a clone.
    const counter = error instanceof Error && /counter/i.test(error.message);
    return { ok: false, reason: counter ? "passkey_counter" : "passkey_signature", passkey };
  }
  if (!verified.verified) return { ok: false, reason: "passkey_signature", passkey };
  const info = verified.authenticationInfo;
  const used = await recordPasskeyUse(db, passkey.id, {
    counter: info.newCounter,
    backedUp: info.credentialBackedUp,
  });
  if (!used) return { ok: false, reason: "passkey_counter", passkey };
  const keyAmr = info.credentialDeviceType === "multiDevice" ? "swk" : "hwk";
  return { ok: true, proved: { passkey, keyAmr } };
}
