import {
  createHash,
  createPrivateKey,
  createPublicKey,
  type JsonWebKeyInput,
  type KeyObject,
} from "node:crypto";

// Access-token signing keys as written in JWT_SIGNING_KEYS. Asymmetric only
// (Ed25519 or P-256), so the published half verifies but cannot sign, and a
// verifier that pins the key's algorithm cannot be fooled into
// HMAC-verifying with the public key. No configuration import here: the
// configuration parses its keys with this file.

export type SigningAlgorithm = "EdDSA" | "ES256";

/** The public half as published in the JWKS. */
export type PublicJwk = {
  kty: string;
  crv: string;
  x: string;
  y?: string;
  kid: string;
  alg: SigningAlgorithm;
  use: "sig";
};

export type SigningKey = {
  kid: string;
  alg: SigningAlgorithm;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicJwk: PublicJwk;
};

function algorithmOf(key: KeyObject): SigningAlgorithm {
  if (key.asymmetricKeyType === "ed25519") return "EdDSA";
  if (key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") {
    return "ES256";
  }
  throw new Error("only Ed25519 (EdDSA) and P-256 (ES256) private keys are supported");
}

/** RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order. */
function thumbprint(jwk: JsonWebKeyInput["key"]): string {
  const members =
    jwk.kty === "EC"
      ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }
      : { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
  return createHash("sha256").update(JSON.stringify(members)).digest("base64url");
}

export function signingKey(
  privateKey: KeyObject,
  declared: { kid?: unknown; alg?: unknown },
): SigningKey {
  if (privateKey.type !== "private") throw new Error("a private key is needed to sign");
  const alg = algorithmOf(privateKey);
  if (declared.alg !== undefined && declared.alg !== alg) {
    throw new Error(`a key declares alg ${String(declared.alg)} but is a ${alg} key`);
  }
  const publicKey = createPublicKey(privateKey);
  const { kty, crv, x, y } = publicKey.export({ format: "jwk" });
  if (typeof declared.kid === "string" && !/^[A-Za-z0-9._-]{1,64}$/.test(declared.kid)) {
    throw new Error("a kid must be 1-64 letters, digits, '.', '_' or '-'");
  }
  const kid = typeof declared.kid === "string" ? declared.kid : thumbprint({ kty, crv, x, y });
  return {
    kid,
    alg,
    privateKey,
    publicKey,
    publicJwk: {
      kty: kty as string,
      crv: crv as string,
      x: x as string,
      ...(y ? { y } : {}),
      kid,
      alg,
      use: "sig",
    },
  };
}

/** A private key as written, with the kid and alg its JWK declared (if any). */
export type WrittenPrivateKey = {
  privateKey: KeyObject;
  declared: { kid?: unknown; alg?: unknown };
};

/**
 * Private keys as an operator writes them in a variable: one private JWK, a
 * JSON array of them, a JWK Set (`{"keys": [...]}`), or PEM blocks (PKCS#8,
 * SEC1 or PKCS#1; `\n` may be written literally, as one-line environment
 * values need). Throws with a message fit for the configuration error line,
 * never quoting the key. ID-token keys (id-token-keys.ts) are read the same way.
 */
export function readPrivateKeys(text: string): WrittenPrivateKey[] {
  const value = text.trim().replaceAll("\\n", "\n");
  let keys: WrittenPrivateKey[];
  if (value.startsWith("{") || value.startsWith("[")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new Error("expected a JWK, an array of JWKs, a JWK Set, or PEM private keys");
    }
    const entries = Array.isArray(parsed)
      ? parsed
      : Array.isArray((parsed as { keys?: unknown }).keys)
        ? (parsed as { keys: unknown[] }).keys
        : [parsed];
    keys = entries.map((entry) => {
      if (typeof entry !== "object" || entry === null) throw new Error("a JWK must be an object");
      try {
        const privateKey = createPrivateKey({
          key: entry as JsonWebKeyInput["key"],
          format: "jwk",
        });
        return { privateKey, declared: entry as { kid?: unknown; alg?: unknown } };
      } catch {
        throw new Error("a JWK is not a usable private key (kty, crv, x, d)");
      }
    });
  } else {
    const blocks = value.match(/-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----/g) ?? [];
    keys = blocks.map((pem) => {
      try {
        return { privateKey: createPrivateKey(pem), declared: {} };
      } catch {
        throw new Error("a PEM block is not a usable private key");
      }
    });
  }
  if (keys.length === 0) throw new Error("no key found");
  return keys;
}

/** Throws unless every key has its own kid. */
export function assertDistinctKids(keys: readonly { kid: string }[]): void {
  if (new Set(keys.map((k) => k.kid)).size !== keys.length) throw new Error("two keys share a kid");
}

/**
 * JWT_SIGNING_KEYS (read by readPrivateKeys), Ed25519 or P-256 only. Newest
 * first: the first key signs, all of them are published and verify.
 */
export function parseSigningKeys(text: string): SigningKey[] {
  const keys = readPrivateKeys(text).map(({ privateKey, declared }) =>
    signingKey(privateKey, declared),
  );
  assertDistinctKids(keys);
  return keys;
}
