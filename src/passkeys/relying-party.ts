import type { Config } from "../config/index.ts";

// Who the passkeys belong to, in WebAuthn's terms: the relying party. Its id
// is PUBLIC_URL's host name, so a passkey works on that host (and on no
// look-alike: the browser checks the page's origin against it, which is
// what makes passkeys unphishable); its origin is the one origin a signed
// response may name.

export type RelyingParty = {
  /** The host name of PUBLIC_URL (an IP address cannot be one: passkeys then fail). */
  id: string;
  /** PUBLIC_URL's origin: the only page a ceremony may have run on. */
  origin: string;
  /** What an authenticator shows beside the account name. */
  name: string;
};

export function relyingPartyOf(http: Pick<Config["http"], "PUBLIC_URL">): RelyingParty {
  const url = new URL(http.PUBLIC_URL);
  return { id: url.hostname, origin: url.origin, name: "Gatehouse" };
}

/**
 * The WebAuthn user handle of a user: the 16 bytes of their id. It is what
 * a discoverable passkey hands back, so it names no one outside Gatehouse
 * (no email address: an authenticator may show or keep it).
 */
export function userHandleOf(userId: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.from(userId.replaceAll("-", ""), "hex"));
}
