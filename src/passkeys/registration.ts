import {
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type RegistrationResponseJSON,
  verifyRegistrationResponse,
} from "@simplewebauthn/server";
import { type DatabasePool, UniqueIntegrityConstraintViolationError } from "slonik";
import {
  deletePasskeyOfUser,
  insertPasskey,
  listPasskeysOfUser,
  type PasskeyRow,
} from "../../sql/passkeys.ts";
import { lockUserById } from "../../sql/users.ts";
import { recordAudit } from "../audit.ts";
import type { Config } from "../config/index.ts";
import { DomainError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { keepsSecondFactorUnderPolicy } from "../mfa/policy.ts";
import { ceremonyTimeoutMs, issueChallenge, takeChallengeOf } from "./challenges.ts";
import { relyingPartyOf, userHandleOf } from "./relying-party.ts";

// A signed-in user's passkeys: register one (options with a fresh challenge,
// then the authenticator's signed answer), list them, remove one. A passkey
// is a whole sign-in by itself, so registering asks for a discoverable
// credential and user verification (a PIN, a fingerprint), and only its
// public key is kept. No attestation is asked for: which make of
// authenticator it is changes nothing here, and asking makes browsers show
// an extra prompt.

export type PasskeyDeps = {
  config: Pick<Config, "http" | "mfa" | "access">;
  pool: DatabasePool;
  logger: Logger;
};

type Facts = { ip: string | null; userAgent: string | null };

/**
 * The algorithms offered and accepted: EdDSA, ES256, RS256 (COSE -8, -7,
 * -257), what every authenticator has. Post-quantum ones are left out: a
 * key stored today must still verify on whatever runtime serves tomorrow.
 */
const algorithms = [-8, -7, -257];

export type PasskeyView = {
  id: string;
  name: string;
  created_at: Date;
  last_used_at: Date | null;
  device_type: PasskeyRow["device_type"];
  backed_up: boolean;
};

/** A passkey as its owner sees it: never its key. */
export const passkeyView = (p: PasskeyRow): PasskeyView => ({
  id: p.id,
  name: p.name,
  created_at: p.created_at,
  last_used_at: p.last_used_at,
  device_type: p.device_type,
  backed_up: p.backed_up,
});

export async function listPasskeys(
  deps: Pick<PasskeyDeps, "pool">,
  userId: string,
): Promise<PasskeyView[]> {
  return (await listPasskeysOfUser(deps.pool, userId)).map(passkeyView);
}

/**
 * Options for navigator.credentials.create(): a challenge stored for this
 * user, and the passkeys they have already, which the browser then refuses
 * to register twice on the same authenticator.
 */
export async function registrationOptions(
  deps: PasskeyDeps,
  user: { id: string; email: string | null; fullName: string | null },
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const rp = relyingPartyOf(deps.config.http);
  const existing = await listPasskeysOfUser(deps.pool, user.id);
  const challenge = await issueChallenge(deps.pool, "register", user.id);
  const accountName = user.email ?? user.fullName ?? user.id;
  return generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userID: userHandleOf(user.id),
    userName: accountName,
    userDisplayName: user.fullName ?? accountName,
    challenge,
    timeout: ceremonyTimeoutMs,
    attestationType: "none",
    excludeCredentials: existing.map((p) => ({
      id: p.credential_id.toString("base64url"),
      transports: p.transports,
    })),
    authenticatorSelection: { residentKey: "required", userVerification: "required" },
    supportedAlgorithmIDs: algorithms,
  });
}

/**
 * Stores the passkey an authenticator created for the options above, under
 * the name the user gave it; audited `mfa.enrolled` (method `passkey`). Refused, with
 * nothing stored, when the response was not made for a live registration
 * challenge of this user, on our origin, with user verification.
 */
export async function registerPasskey(
  deps: PasskeyDeps,
  userId: string,
  registration: { name: string; response: RegistrationResponseJSON },
  facts: Facts,
): Promise<PasskeyView> {
  const rp = relyingPartyOf(deps.config.http);
  const { response } = registration;
  const challenge = await takeChallengeOf(
    deps.pool,
    response.response.clientDataJSON,
    "register",
    userId,
  );
  if (!challenge) {
    throw new DomainError("passkey_unverified", {
      detail: "This registration has expired or was finished already: start again.",
    });
  }
  let verified: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
  try {
    verified = await verifyRegistrationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserVerification: true,
      supportedAlgorithmIDs: algorithms,
    });
  } catch {
    verified = { verified: false };
  }
  if (!verified.verified) throw new DomainError("passkey_unverified");
  const info = verified.registrationInfo;
  try {
    return await deps.pool.transaction(async (tx) => {
      const passkey = await insertPasskey(tx, {
        userId,
        credentialId: Buffer.from(info.credential.id, "base64url"),
        publicKey: Buffer.from(info.credential.publicKey),
        counter: info.credential.counter,
        transports: (response.response.transports ?? []).slice(0, 8),
        deviceType: info.credentialDeviceType,
        backedUp: info.credentialBackedUp,
        name: registration.name,
      });
      // A passkey is a second factor: audited (and reported to webhooks as
      // mfa.enabled) like a confirmed authenticator app, told apart by method.
      await recordAudit(tx, deps.logger, {
        eventType: "mfa.enrolled",
        result: "success",
        userId,
        ...facts,
        context: {
          method: "passkey",
          passkey_id: passkey.id,
          device_type: passkey.device_type,
          backed_up: passkey.backed_up,
        },
      });
      return passkeyView(passkey);
    });
  } catch (error) {
    if (error instanceof UniqueIntegrityConstraintViolationError) {
      throw new DomainError("passkey_exists");
    }
    throw error;
  }
}

/** Removes one of the user's passkeys; audited `mfa.removed` (method `passkey`), like TOTP turned off. */
export async function removePasskey(
  deps: PasskeyDeps,
  userId: string,
  passkeyId: string,
  facts: Facts,
): Promise<void> {
  await deps.pool.transaction(async (tx) => {
    const user = await lockUserById(tx, userId);
    const removed = await deletePasskeyOfUser(tx, userId, passkeyId);
    if (!removed) throw new DomainError("passkey_not_found");
    if (user && !(await keepsSecondFactorUnderPolicy(tx, deps.config, user))) {
      throw new DomainError("mfa_last_factor");
    }
    await recordAudit(tx, deps.logger, {
      eventType: "mfa.removed",
      result: "success",
      userId,
      ...facts,
      context: { method: "passkey", passkey_id: removed.id },
    });
  });
}
