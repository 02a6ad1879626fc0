import { createHash, createPublicKey, type KeyObject } from "node:crypto";
import { assertDistinctKids, readPrivateKeys, type SigningKey } from "./signing-key-text.ts";

// ID tokens of the OpenID provider (src/oidc) are signed RS256: the one
// algorithm OpenID Connect Core §15.1 requires every relying party to
// accept. Access tokens keep their Ed25519/P-256 keys (signing-key-text.ts);
// the RSA keys are published in the same JWKS, each with its own kid and
// alg, so neither kind of token can be verified with the other's key. No
// configuration import here: the configuration parses its keys with this file.

/** The public half of an RSA key as the JWKS publishes it. */
export type RsaPublicJwk = {
  kty: "RSA";
  n: string;
  e: string;
  kid: string;
  alg: "RS256";
  use: "sig";
};

export type IdTokenKey = {
  kid: string;
  alg: "RS256";
  privateKey: KeyObject;
  publicJwk: RsaPublicJwk;
};

/** Where ID tokens are signed: an RSA key, or the access-token key when none is configured in production. */
export type IdTokenSigner = {
  kid: string;
  alg: "RS256" | SigningKey["alg"];
  privateKey: KeyObject;
};

export const minimumModulusBits = 2048;

export function idTokenKey(privateKey: KeyObject, declaredKid?: unknown): IdTokenKey {
  if (privateKey.type !== "private" || privateKey.asymmetricKeyType !== "rsa") {
    throw new Error("ID token keys must be RSA private keys");
  }
  if ((privateKey.asymmetricKeyDetails?.modulusLength ?? 0) < minimumModulusBits) {
    throw new Error(`ID token keys must have at least ${minimumModulusBits} bits`);
  }
  const { n, e } = createPublicKey(privateKey).export({ format: "jwk" }) as {
    n: string;
    e: string;
  };
  if (typeof declaredKid === "string" && !/^[A-Za-z0-9._-]{1,64}$/.test(declaredKid)) {
    throw new Error("a kid must be 1-64 letters, digits, '.', '_' or '-'");
  }
  // RFC 7638 thumbprint over e, kty, n (lexicographic order).
  const kid =
    typeof declaredKid === "string"
      ? declaredKid
      : createHash("sha256")
          .update(JSON.stringify({ e, kty: "RSA", n }))
          .digest("base64url");
  return {
    kid,
    alg: "RS256",
    privateKey,
    publicJwk: { kty: "RSA", n, e, kid, alg: "RS256", use: "sig" },
  };
}

/**
 * ID_TOKEN_SIGNING_KEYS: RSA private keys (read as JWT_SIGNING_KEYS are,
 * signing-key-text.ts), newest first: the first signs, all are published.
 */
export function parseIdTokenKeys(text: string): IdTokenKey[] {
  const keys = readPrivateKeys(text).map(({ privateKey, declared }) =>
    idTokenKey(privateKey, declared.kid),
  );
  assertDistinctKids(keys);
  return keys;
}
