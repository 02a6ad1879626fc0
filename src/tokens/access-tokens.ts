import { randomUUID } from "node:crypto";
import { errors, type JWTHeaderParameters, jwtVerify, SignJWT } from "jose";
import { z } from "zod";
import { userRoles } from "../../sql/users.ts";
import type { Config } from "../config/index.ts";
import type { PublicJwk, SigningKey } from "../keys/signing-key-text.ts";
import { loadSigningKeys } from "../keys/signing-keys.ts";
import type { Logger } from "../logger.ts";
import { createAccessTokenCheck } from "./access-token-check.ts";

// Access tokens are JWTs (RFC 9068 profile: typ at+jwt) signed with our
// newest key. Anyone can verify them with the JWKS alone; Gatehouse itself
// also checks, on every request, that the user, session and jti are still
// good (src/tokens/bearer.ts).

/** Exp and iat may be this far off between our clock and the verifier's. */
export const clockToleranceSeconds = 30;
/** Longer than any token we sign: refused before any parsing or crypto. */
const maxTokenLength = 4096;
/**
 * Tokens already verified, by their exact text. A client sends the same
 * token for its whole lifetime, and the signature check (~0.05 ms of Ed25519)
 * is the largest CPU cost of a bearer request; a hit skips it. Only tokens
 * that passed verification are stored, the key is the whole token (signature
 * included), and `exp` is checked again on every hit, so a hit can never
 * accept what verification would refuse. Revocation is not cached: that is
 * the database read that follows. Oldest entries are dropped beyond this.
 */
const verifiedCacheSize = 10_000;

const claimsSchema = z.object({
  sub: z.uuid(),
  sid: z.uuid(),
  jti: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/),
  iat: z.number().int(),
  exp: z.number().int(),
  role: z.enum(userRoles),
  // Optional for tokens signed before these claims existed.
  email: z.string().optional(),
  email_verified: z.boolean().optional(),
  /** How the sign-in behind the token was proved (RFC 8176); absent on older tokens. */
  amr: z.array(z.string()).optional(),
});
export type AccessTokenClaims = z.infer<typeof claimsSchema>;

/** Within its lifetime (and the clock tolerance): checked again on every reuse of verified claims. */
export function unexpired(claims: Pick<AccessTokenClaims, "exp">): boolean {
  return claims.exp + clockToleranceSeconds > Date.now() / 1000;
}

export type IssuedAccessToken = { token: string; jti: string; expiresIn: number };

/**
 * A relying party's access token (src/oidc): good for our userinfo endpoint
 * only. Its audience is that endpoint, so the bearer check of every other
 * route (audience ACCESS_TOKEN_AUDIENCE) refuses it: an app a user signed in
 * to cannot act on the user's Gatehouse account.
 */
const clientClaimsSchema = z.object({
  sub: z.uuid(),
  sid: z.uuid(),
  jti: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/),
  iat: z.number().int(),
  exp: z.number().int(),
  client_id: z.uuid(),
  scope: z.string(),
  /** The acr the sign-in met, when the authorization request asked for one (RFC 9068 §2.2.1). */
  acr: z.string().optional(),
});
export type ClientAccessTokenClaims = z.infer<typeof clientClaimsSchema>;

export type AccessTokens = {
  /** The public keys, as GET /.well-known/jwks.json serves them. */
  jwks: { keys: PublicJwk[] };
  issue: (subject: {
    userId: string;
    sessionId: string;
    /** How the session's sign-in was proved; none for tokens minted outside a sign-in. */
    amr?: readonly string[];
    role: AccessTokenClaims["role"];
    email: string | null;
    emailVerified: boolean;
  }) => Promise<IssuedAccessToken>;
  /**
   * The claims of a token we signed that is still within its lifetime, for
   * our issuer and audience; null for anything else (no reason is given: the
   * caller answers 401 either way).
   */
  verify: (token: string) => Promise<AccessTokenClaims | null>;
  /**
   * Whether `token` is one of ours whose only fault is its age (signature,
   * issuer and audience good, exp past): a client that should refresh rather
   * than sign in again. For refusals only: it checks the signature again.
   */
  expired: (token: string) => Promise<boolean>;
  /** A relying party's access token for the userinfo endpoint, `audience`. */
  issueForClient: (grant: {
    userId: string;
    sessionId: string;
    clientId: string;
    scopes: readonly string[];
    audience: string;
    acr?: string | null;
  }) => Promise<IssuedAccessToken>;
  /** The claims of a relying party's access token for `audience`, still within its lifetime; else null. */
  verifyForClient: (token: string, audience: string) => Promise<ClientAccessTokenClaims | null>;
};

export function createAccessTokens(
  config: Pick<Config, "http" | "runtime" | "tokens">,
  logger: Logger,
): AccessTokens {
  const keys = loadSigningKeys(config, logger);
  const [current] = keys as [SigningKey, ...SigningKey[]];
  const byKid = new Map(keys.map((k) => [k.kid, k]));
  const issuer = config.http.PUBLIC_URL;
  const audience = config.tokens.ACCESS_TOKEN_AUDIENCE ?? config.http.PUBLIC_URL;
  const ttlSeconds = Math.max(1, Math.floor(config.tokens.ACCESS_TOKEN_TTL / 1000));

  // The key is chosen by kid and must be used with its own algorithm: a
  // token claiming HS256 (HMAC keyed with our public key), `none`, or another
  // key's algorithm is refused before any signature check.
  const keyFor = (header: JWTHeaderParameters) => {
    const key = header.kid === undefined ? undefined : byKid.get(header.kid);
    if (!key || header.alg !== key.alg) throw new Error("unknown key or algorithm");
    return key.publicKey;
  };
  const verifyOptions = {
    issuer,
    audience,
    algorithms: ["EdDSA", "ES256"],
    typ: "at+jwt",
    clockTolerance: clockToleranceSeconds,
    requiredClaims: ["sub", "sid", "jti", "iat", "exp"],
  };

  const checkAccessToken = createAccessTokenCheck({
    keys,
    issuer,
    audience,
    toleranceSeconds: clockToleranceSeconds,
  });
  const verified = new Map<string, AccessTokenClaims>();
  const remember = (token: string, claims: AccessTokenClaims) => {
    if (verified.size >= verifiedCacheSize) {
      verified.delete(verified.keys().next().value as string);
    }
    verified.set(token, claims);
  };

  /** A token for `subject` and `tokenAudience` with `claims`, signed with the newest key. */
  const sign = async (
    subject: string,
    tokenAudience: string,
    claims: Record<string, unknown>,
  ): Promise<IssuedAccessToken> => {
    const jti = randomUUID();
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: current.alg, kid: current.kid, typ: "at+jwt" })
      .setIssuer(issuer)
      .setAudience(tokenAudience)
      .setSubject(subject)
      .setJti(jti)
      .setIssuedAt()
      .setExpirationTime(`${ttlSeconds}s`)
      .sign(current.privateKey);
    return { token, jti, expiresIn: ttlSeconds };
  };

  return {
    jwks: { keys: keys.map((k) => k.publicJwk) },
    issue: ({ userId, sessionId, amr, role, email, emailVerified }) => {
      // An address the user never confirmed is only their claim: apps that
      // trust `email` must not be handed one (OIDC Core §5.1 email_verified).
      const identity =
        emailVerified && email ? { email, email_verified: true } : { email_verified: false };
      return sign(userId, audience, { sid: sessionId, role, amr: [...(amr ?? [])], ...identity });
    },
    verify: async (token) => {
      if (token.length > maxTokenLength) return null;
      const known = verified.get(token);
      if (known) {
        if (unexpired(known)) return known;
        verified.delete(token);
        return null;
      }
      const payload = checkAccessToken(token, Date.now() / 1000);
      const claims = payload && claimsSchema.safeParse(payload);
      if (!claims?.success) return null;
      remember(token, claims.data);
      return claims.data;
    },
    issueForClient: ({ userId, sessionId, clientId, scopes, audience: resource, acr }) =>
      sign(userId, resource, {
        sid: sessionId,
        client_id: clientId,
        scope: scopes.join(" "),
        ...(acr ? { acr } : {}),
      }),
    verifyForClient: async (token, resource) => {
      if (token.length > maxTokenLength) return null;
      try {
        const { payload } = await jwtVerify(token, keyFor, {
          ...verifyOptions,
          audience: resource,
          requiredClaims: [...verifyOptions.requiredClaims, "client_id"],
        });
        const claims = clientClaimsSchema.safeParse(payload);
        return claims.success ? claims.data : null;
      } catch {
        return null;
      }
    },
    expired: async (token) => {
      if (token.length > maxTokenLength) return false;
      try {
        await jwtVerify(token, keyFor, verifyOptions);
        return false;
      } catch (error) {
        // jose checks the signature and typ, iss and aud before exp.
        return error instanceof errors.JWTExpired;
      }
    },
  };
}
