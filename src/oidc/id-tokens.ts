import { createHash, createPublicKey, type KeyObject, randomUUID } from "node:crypto";
import { compactVerify, decodeProtectedHeader, SignJWT } from "jose";
import { z } from "zod";
import type { Config } from "../config/index.ts";
import type { IdTokenSigner, RsaPublicJwk } from "../keys/id-token-keys.ts";
import { loadIdTokenKeys, loadSigningKeys } from "../keys/signing-keys.ts";
import type { Logger } from "../logger.ts";

// ID tokens (OpenID Connect Core §2): signed RS256 with the newest RSA key
// unless the client registered another of the algorithms offered
// (id_token_signed_response_alg): EdDSA or ES256 with the newest
// access-token key of that algorithm. In production without
// ID_TOKEN_SIGNING_KEYS there is no RSA key: the access-token key's
// algorithm is then the default, and the only one offered besides its
// siblings in JWT_SIGNING_KEYS.

/** How long an ID token is good for: a relying party checks it once, at sign-in. */
const idTokenTtlSeconds = 600;
/** A logout token is checked on arrival; its retries are within minutes. */
const logoutTokenTtlSeconds = 300;
export const backchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout";

export type IdTokenAlgorithm = IdTokenSigner["alg"];
/** Every algorithm a client may register; a deployment offers those its keys allow (IdTokens.algs). */
export const idTokenAlgorithms = ["RS256", "EdDSA", "ES256"] as const satisfies IdTokenAlgorithm[];

export type IdTokens = {
  /** The algorithms offered, the default first (discovery's id_token_signing_alg_values_supported). */
  algs: readonly IdTokenAlgorithm[];
  /** What a client that registers none gets: RS256 when there is an RSA key. */
  defaultAlg: IdTokenAlgorithm;
  /** The RSA public keys, served in the JWKS beside the access-token keys. */
  jwks: RsaPublicJwk[];
  sign: (claims: IdTokenClaims) => Promise<string>;
  /**
   * A logout token (OpenID Connect Back-Channel Logout 1.0 §2.4) telling
   * `clientId` that `sub` signed out, signed as its ID tokens are.
   */
  signLogoutToken: (logout: { sub: string; clientId: string; alg: string }) => Promise<string>;
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
  /** The client's registered algorithm; the default when this deployment no longer offers it. */
  alg: string;
  authTime: Date;
  nonce: string | null;
  amr: readonly string[];
  /** The acr the sign-in met, when the request asked for one (src/oidc/acr.ts). */
  acr: string | null;
  /** The access token issued beside it, for at_hash (Core §3.1.3.6). */
  accessToken: string;
  /** The claims the granted scopes and the claims parameter release (src/oidc/claims.ts). */
  released: Record<string, unknown>;
};

const hintClaims = z.object({ iss: z.string(), sub: z.string(), aud: z.string() });

/**
 * The algorithms a configuration offers for ID tokens, the default first,
 * as createIdTokens will find them among its keys: what the CLI checks a
 * registration against without loading (or generating) any key.
 */
export function offeredIdTokenAlgorithms(
  config: Pick<Config, "runtime" | "tokens">,
): IdTokenAlgorithm[] {
  const rsa =
    config.tokens.ID_TOKEN_SIGNING_KEYS.length > 0 || config.runtime.NODE_ENV !== "production";
  const access =
    config.tokens.JWT_SIGNING_KEYS.length > 0
      ? config.tokens.JWT_SIGNING_KEYS.map((k) => k.alg)
      : config.runtime.NODE_ENV === "production"
        ? []
        : ["EdDSA" as const];
  return [...new Set<IdTokenAlgorithm>([...(rsa ? ["RS256" as const] : []), ...access])];
}

export function createIdTokens(
  config: Pick<Config, "http" | "runtime" | "tokens">,
  logger: Logger,
): IdTokens {
  const rsaKeys = loadIdTokenKeys(config, logger);
  const accessKeys = loadSigningKeys(config, logger);
  // The newest key of each algorithm signs it; RS256 first, the default when there.
  const signers = new Map<IdTokenAlgorithm, IdTokenSigner>();
  for (const key of [...rsaKeys, ...accessKeys]) {
    if (!signers.has(key.alg)) signers.set(key.alg, key);
  }
  const algs = [...signers.keys()];
  const defaultAlg = algs[0] as IdTokenAlgorithm;
  const verifiers = new Map<string, { alg: string; publicKey: KeyObject }>(
    [...rsaKeys, ...accessKeys].map((k) => [
      k.kid,
      { alg: k.alg, publicKey: createPublicKey(k.privateKey) },
    ]),
  );
  const issuer = config.http.PUBLIC_URL;

  return {
    algs,
    defaultAlg,
    jwks: rsaKeys.map((k) => k.publicJwk),
    signLogoutToken: async ({ sub, clientId, alg }) => {
      const signer = (signers.get(alg as IdTokenAlgorithm) ??
        signers.get(defaultAlg)) as IdTokenSigner;
      // typ logout+jwt (§2.4): no relying party can take it for an ID token.
      return new SignJWT({ events: { [backchannelLogoutEvent]: {} } })
        .setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: "logout+jwt" })
        .setIssuer(issuer)
        .setSubject(sub)
        .setAudience(clientId)
        .setIssuedAt()
        .setJti(randomUUID())
        .setExpirationTime(`${logoutTokenTtlSeconds}s`)
        .sign(signer.privateKey);
    },
    sign: async ({ sub, clientId, alg, authTime, nonce, amr, acr, accessToken, released }) => {
      const signer = (signers.get(alg as IdTokenAlgorithm) ??
        signers.get(defaultAlg)) as IdTokenSigner;
      return new SignJWT({
        ...released,
        azp: clientId,
        auth_time: Math.floor(authTime.getTime() / 1000),
        ...(nonce !== null ? { nonce } : {}),
        ...(amr.length > 0 ? { amr: [...amr] } : {}),
        ...(acr !== null ? { acr } : {}),
        at_hash: leftHalfHash(accessToken, signer.alg),
      })
        .setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: "JWT" })
        .setIssuer(issuer)
        .setSubject(sub)
        .setAudience(clientId)
        .setIssuedAt()
        .setExpirationTime(`${idTokenTtlSeconds}s`)
        .sign(signer.privateKey);
    },
    readHint: async (token) => {
      if (token.length > 8192) return null;
      try {
        const { kid, alg, typ } = decodeProtectedHeader(token);
        const key = kid === undefined ? undefined : verifiers.get(kid);
        // The access-token keys sign ID tokens too: an access token (typ
        // at+jwt) is no proof that an application speaks for its user.
        if (!key || alg !== key.alg || typ !== "JWT") return null;
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
