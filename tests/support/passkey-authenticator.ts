import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from "node:crypto";
import { isoCBOR } from "@simplewebauthn/server/helpers";

// A software authenticator that does what a platform authenticator does in
// a browser (WebAuthn §6): makes an ES256 key pair per credential, answers
// create() with a "none" attestation and get() with a signature over the
// authenticator data and the client data, and counts its signatures. Built
// here from the specification, with node:crypto and CBOR only, so the
// service's checks are tested against answers it did not make itself.

type Options = { challenge: string; rp?: { id?: string }; rpId?: string; user?: { id: string } };

export type StoredCredential = {
  id: string;
  privateKey: KeyObject;
  userHandle: string;
  counter: number;
  backupEligible: boolean;
};

const flags = { up: 0x01, uv: 0x04, be: 0x08, bs: 0x10, at: 0x40 };

export class TestAuthenticator {
  readonly credentials = new Map<string, StoredCredential>();

  constructor(
    /** The page's origin, as a browser would put it into the client data. */
    private readonly origin: string,
    private readonly rpId = new URL(origin).hostname,
  ) {}

  /** navigator.credentials.create() as @simplewebauthn/browser returns it. */
  register(
    options: Options,
    how: { userVerified?: boolean; origin?: string; backupEligible?: boolean } = {},
  ) {
    const id = randomBytes(32).toString("base64url");
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const jwk = publicKey.export({ format: "jwk" });
    const coseKey = isoCBOR.encode(
      new Map<number, number | Uint8Array>([
        [1, 2], // kty: EC2
        [3, -7], // alg: ES256
        [-1, 1], // crv: P-256
        [-2, new Uint8Array(Buffer.from(jwk.x ?? "", "base64url"))],
        [-3, new Uint8Array(Buffer.from(jwk.y ?? "", "base64url"))],
      ]),
    );
    const backupEligible = how.backupEligible ?? false;
    const credentialId = Buffer.from(id, "base64url");
    const length = Buffer.alloc(2);
    length.writeUInt16BE(credentialId.length);
    const authData = Buffer.concat([
      this.authenticatorData(
        flags.up | flags.at | (how.userVerified === false ? 0 : flags.uv),
        0,
        backupEligible,
      ),
      Buffer.alloc(16), // AAGUID: none
      length,
      credentialId,
      coseKey,
    ]);
    const attestationObject = isoCBOR.encode(
      new Map<string, string | Uint8Array | Map<never, never>>([
        ["fmt", "none"],
        ["attStmt", new Map<never, never>()],
        ["authData", new Uint8Array(authData)],
      ]),
    );
    this.credentials.set(id, {
      id,
      privateKey,
      userHandle: options.user?.id ?? "",
      counter: 0,
      backupEligible,
    });
    return {
      id,
      rawId: id,
      type: "public-key" as const,
      authenticatorAttachment: "platform" as const,
      clientExtensionResults: {},
      response: {
        clientDataJSON: this.clientData("webauthn.create", options.challenge, how.origin),
        attestationObject: Buffer.from(attestationObject).toString("base64url"),
        transports: ["internal"],
      },
    };
  }

  /** navigator.credentials.get() with one of this authenticator's credentials. */
  assert(
    options: Options,
    how: { credentialId?: string; userVerified?: boolean; origin?: string } = {},
  ) {
    const credential = how.credentialId
      ? this.credentials.get(how.credentialId)
      : [...this.credentials.values()][0];
    if (!credential) throw new Error("no such credential on this authenticator");
    credential.counter += 1;
    const authData = this.authenticatorData(
      flags.up | (how.userVerified === false ? 0 : flags.uv),
      credential.counter,
      credential.backupEligible,
    );
    const clientDataJSON = this.clientData("webauthn.get", options.challenge, how.origin);
    const clientHash = createHash("sha256")
      .update(Buffer.from(clientDataJSON, "base64url"))
      .digest();
    // ES256 signatures are DER-encoded in WebAuthn, node:crypto's default.
    const signature = sign("sha256", Buffer.concat([authData, clientHash]), credential.privateKey);
    return {
      id: credential.id,
      rawId: credential.id,
      type: "public-key" as const,
      authenticatorAttachment: "platform" as const,
      clientExtensionResults: {},
      response: {
        clientDataJSON,
        authenticatorData: authData.toString("base64url"),
        signature: signature.toString("base64url"),
        userHandle: credential.userHandle,
      },
    };
  }

  /** The id of the credential it made first. */
  get firstCredentialId(): string {
    const [id] = this.credentials.keys();
    if (!id) throw new Error("this authenticator holds no credential");
    return id;
  }

  /** Another authenticator holding a copy of its first credential (same key, same counter from now). */
  clone(): TestAuthenticator {
    const copy = new TestAuthenticator(this.origin, this.rpId);
    const credential = this.credentials.get(this.firstCredentialId);
    if (credential) copy.credentials.set(credential.id, { ...credential });
    return copy;
  }

  private authenticatorData(flagBits: number, counter: number, backupEligible: boolean): Buffer {
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter);
    return Buffer.concat([
      createHash("sha256").update(this.rpId).digest(),
      Buffer.from([flagBits | (backupEligible ? flags.be | flags.bs : 0)]),
      count,
    ]);
  }

  private clientData(type: string, challenge: string, origin = this.origin): string {
    const data = { type, challenge, origin, crossOrigin: false };
    return Buffer.from(JSON.stringify(data)).toString("base64url");
  }
}
