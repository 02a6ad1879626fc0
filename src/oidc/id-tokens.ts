import { createHash, createPublicKey, type KeyObject } from "node:crypto";
import { compactVerify, decodeProtectedHeader, SignJWT } from "jose";
import { z } from "zod";
import type { Config } from "../config/index.ts";
import type { IdTokenSigner, RsaPublicJwk } from "../keys/id-token-keys.ts";
import { loadIdTokenKeys, loadSigningKeys } from "../keys/signing-keys.ts";
import type { Logger } from "../logger.ts";

// ID tokens (OpenID Connect Core §2): signed with the newest RS256 key, or,
// in production without ID_TOKEN_SIGNING_KEYS, with the access-token key
// (the discovery document then names that key's algorithm instead).

/** How long an ID token is good for: a relying party checks it once, at sign-in. */
const idTokenTtlSeconds = 600;

export type IdTokens = {
  /** The algorithm every ID token is signed with (discovery's id_token_signing_alg_values_supported). */
  alg: IdTokenSigner["alg"];
  /** The RSA public keys, served in the JWKS beside the access-token keys. */
  jwks: RsaPublicJwk[];
  sign: (claims: IdTokenClaims) => Promise<string>;
  /**
   * The subject and audience of an ID token we signed, however old (an
   * end-session `id_token_hint` may have expired, OpenID RP-Initiated Logout
   * §2); null for anything else.
   */
  readHint: (token: string) => Promise<{ sub: string; aud: string } | null>;
};

export type IdTokenClaims = {
  sub: string;
  clientId: string;
  authTime: Date;
  nonce: string | null;
  amr: readonly string[];
  /** The access token issued beside it, for at_hash (Core §3.1.3.6). */
  accessToken: string;
  /** The claims the granted scopes release (src/oidc/claims.ts). */
  released: Record<string, unknown>;
};

const hintClaims = z.object({ iss: z.string(), sub: z.string(), aud: z.string() });

export function createIdTokens(
  config: Pick<Config, "http" | "runtime" | "tokens">,
  logger: Logger,
): IdTokens {
  const rsaKeys = loadIdTokenKeys(config, logger);
  const signer: IdTokenSigner = rsaKeys[0] ?? (loadSigningKeys(config, logger)[0] as IdTokenSigner);
  const verifiers = new Map<string, { alg: string; publicKey: KeyObject }>(
    (rsaKeys.length > 0 ? rsaKeys : [signer]).map((k) => [
      k.kid,
      { alg: k.alg, publicKey: createPublicKey(k.privateKey) },
    ]),
  );
  const issuer = config.http.PUBLIC_URL;

  return {
    alg: signer.alg,
    jwks: rsaKeys.map((k) => k.publicJwk),
    sign: async ({ sub, clientId, authTime, nonce, amr, accessToken, released }) =>
      new SignJWT({
        ...released,
        azp: clientId,
        auth_time: Math.floor(authTime.getTime() / 1000),
        ...(nonce !== null ? { nonce } : {}),
        ...(amr.length > 0 ? { amr: [...amr] } : {}),
        at_hash: leftHalfHash(accessToken, signer.alg),
      })
        .setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: "JWT" })
        .setIssuer(issuer)
        .setSubject(sub)
        .setAudience(clientId)
        .setIssuedAt()
        .setExpirationTime(`${idTokenTtlSeconds}s`)
        .sign(signer.privateKey),
    readHint: async (token) => {
      if (token.length > 8192) return null;
      try {
        const { kid, alg } = decodeProtectedHeader(token);
        const key = kid === undefined ? undefined : verifiers.get(kid);
        if (!key || alg !== key.alg) return null;
        const { payload } = await compactVerify(token, key.publicKey, { algorithms: [key.alg] });
        const claims = hintClaims.safeParse(JSON.parse(new TextDecoder().decode(payload)));
        if (!claims.success || claims.data.iss !== issuer) return null;
        return { sub: claims.data.sub, aud: claims.data.aud };
      } catch {
        return null;
      }
    },
  };
}

/** at_hash: the left half of the access token's hash, base64url; Ed25519 pairs with SHA-512. */
function leftHalfHash(token: string, alg: IdTokenSigner["alg"]): string {
  const digest = createHash(alg === "EdDSA" ? "sha512" : "sha256")
    .update(token)
    .digest();
  return digest.subarray(0, digest.length / 2).toString("base64url");
}
