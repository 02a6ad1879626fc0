import { z } from "zod";
import { parseIdTokenKeys } from "../keys/id-token-keys.ts";
import { parseSigningKeys } from "../keys/signing-key-text.ts";
import { ConfigError } from "./config-error.ts";
import type { RuntimeConfig } from "./runtime.ts";
import { duration, optionalText } from "./values.ts";

/** Bearer access tokens and refresh tokens: their lives, their keys, their audience. */
/** Private keys in a variable, parsed by `parse`; a refusal names no key material. */
const privateKeysOf = <K>(parse: (text: string) => K[]) =>
  optionalText.transform((value, ctx): K[] => {
    if (value === undefined) return [];
    try {
      return parse(value);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message });
      return z.NEVER;
    }
  });

export const tokensSchema = z.object({
  ACCESS_TOKEN_TTL: duration("10m"),
  REFRESH_TOKEN_TTL: duration("30d"),
  /** Access-token signing keys (JWK, JWK array or Set, or PEM), newest first; see signing-key-text.ts. */
  JWT_SIGNING_KEYS: privateKeysOf(parseSigningKeys),
  /** ID-token signing keys of the OpenID provider (RSA, RS256), newest first; see id-token-keys.ts. */
  ID_TOKEN_SIGNING_KEYS: privateKeysOf(parseIdTokenKeys),
  /** The access tokens' `aud`; PUBLIC_URL when unset. */
  ACCESS_TOKEN_AUDIENCE: optionalText,
});

export type TokensConfig = z.infer<typeof tokensSchema>;

/** The server's own check (the CLI needs no signing keys); throws ConfigError. */
export function checkServerTokens(tokens: TokensConfig, runtime: RuntimeConfig): void {
  if (runtime.NODE_ENV === "production" && tokens.JWT_SIGNING_KEYS.length === 0) {
    // Every replica must sign with, and publish, the same keys.
    throw new ConfigError("JWT_SIGNING_KEYS: required in production (an Ed25519 or P-256 key)");
  }
}
