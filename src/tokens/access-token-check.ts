import { verify as verifySignature } from "node:crypto";
import type { SigningKey } from "../keys/signing-key-text.ts";

/**
 * The verification of our own access tokens on the request path: the checks
 * `jose.jwtVerify` makes for them, run on node:crypto's synchronous
 * `verify`. A bearer check that misses the caches spent most of its CPU in
 * `jose`'s asynchronous WebCrypto call (100–140 µs a token measured on 2
 * cores, against 44–69 µs for the same signature here), and these tokens
 * need none of its generality. `jose` still signs every token, verifies
 * relying parties' tokens and tells an expired token from a bad one on the
 * refusal path (access-tokens.ts).
 *
 * The header must name one of `keys` by `kid` with that key's own algorithm
 * (so `none`, HS256 over a public key, or another key's algorithm never
 * reach a signature check) and `typ` at+jwt, with no `crit`; the payload
 * must carry `issuer`, `audience` (or a list holding it), a numeric `iat`,
 * and an `exp` no further past than `toleranceSeconds`; an `nbf`, if any,
 * no further ahead. Anything else is null, without a reason: the caller
 * answers 401 either way.
 */
export function createAccessTokenCheck({
  keys,
  issuer,
  audience,
  toleranceSeconds,
}: {
  keys: readonly SigningKey[];
  issuer: string;
  audience: string;
  toleranceSeconds: number;
}): (token: string, nowSeconds: number) => Record<string, unknown> | null {
  const byKid = new Map(keys.map((k) => [k.kid, k]));
  return (token, nowSeconds) => {
    if (!compactJws.test(token)) return null;
    const headerEnd = token.indexOf(".");
    const payloadEnd = token.indexOf(".", headerEnd + 1);
    const header = jsonObject(token.slice(0, headerEnd));
    if (!header || "crit" in header || !accessTokenTypes.has(header.typ)) return null;
    const key = typeof header.kid === "string" ? byKid.get(header.kid) : undefined;
    if (!key || header.alg !== key.alg) return null;
    const signed = Buffer.from(token.slice(0, payloadEnd));
    const signature = Buffer.from(token.slice(payloadEnd + 1), "base64url");
    const good =
      key.alg === "ES256"
        ? verifySignature(
            "sha256",
            signed,
            { key: key.publicKey, dsaEncoding: "ieee-p1363" },
            signature,
          )
        : verifySignature(null, signed, key.publicKey, signature);
    if (!good) return null;
    const claims = jsonObject(token.slice(headerEnd + 1, payloadEnd));
    if (!claims || claims.iss !== issuer) return null;
    const aud = claims.aud;
    if (aud !== audience && !(Array.isArray(aud) && aud.includes(audience))) return null;
    const { exp, iat, nbf } = claims;
    if (typeof exp !== "number" || exp + toleranceSeconds <= nowSeconds) return null;
    if (typeof iat !== "number") return null;
    if (nbf !== undefined && (typeof nbf !== "number" || nbf - toleranceSeconds > nowSeconds)) {
      return null;
    }
    return claims;
  };
}

/** Three base64url parts, none empty: a JWS in compact form with a signature. */
const compactJws = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** RFC 9068 §4: at+jwt, which may also be written as a media type. */
const accessTokenTypes = new Set<unknown>(["at+jwt", "application/at+jwt"]);

function jsonObject(part: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}
