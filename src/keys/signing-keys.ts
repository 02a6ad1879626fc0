import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { type Config, ConfigError } from "../config/index.ts";
import type { Logger } from "../logger.ts";
import {
  type IdTokenKey,
  idTokenKey,
  minimumModulusBits,
  parseIdTokenKeys,
} from "./id-token-keys.ts";
import { parseSigningKeys, type SigningKey, signingKey } from "./signing-key-text.ts";

// Loading the signing keys, access tokens' and ID tokens': configured, or
// (outside production) generated. Their formats are read in
// signing-key-text.ts and id-token-keys.ts.

function generatedKey(): KeyObject {
  return generateKeyPairSync("ed25519").privateKey;
}

/** A development key kept in `file` (PKCS#8 PEM, owner-only), generated the first time. */
function developmentKeyPem(file: string, generate: () => KeyObject): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    const pem = generate().export({ format: "pem", type: "pkcs8" }).toString();
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, pem, { mode: 0o600 });
    return pem;
  }
}

/**
 * The configured signing keys. Without JWT_SIGNING_KEYS, production refuses
 * to start (every replica must sign with, and publish, the same keys); tests
 * get a fresh in-memory key per app; development generates an Ed25519 key
 * once under DATA_DIR, so tokens stay valid across restarts.
 */
export function loadSigningKeys(
  config: Pick<Config, "tokens" | "runtime">,
  logger: Logger,
): SigningKey[] {
  if (config.tokens.JWT_SIGNING_KEYS.length > 0) return config.tokens.JWT_SIGNING_KEYS;
  if (config.runtime.NODE_ENV === "production") {
    throw new ConfigError("JWT_SIGNING_KEYS: required in production (an Ed25519 or P-256 key)");
  }
  if (config.runtime.NODE_ENV === "test") return [signingKey(generatedKey(), {})];
  const file = resolve(config.runtime.DATA_DIR, "jwt-signing-key.pem");
  const pem = developmentKeyPem(file, generatedKey);
  logger.warn(
    { file },
    "JWT_SIGNING_KEYS is not set: access tokens are signed with a development key kept in this file",
  );
  return parseSigningKeys(pem);
}

const generatedRsaKey = () =>
  generateKeyPairSync("rsa", { modulusLength: minimumModulusBits }).privateKey;

/**
 * The configured ID-token keys. Without ID_TOKEN_SIGNING_KEYS, tests get a
 * fresh in-memory key, development generates one once under DATA_DIR, and
 * production has none (the provider then signs with the access-token key and
 * says so in its discovery document; a warning names the variable).
 */
export function loadIdTokenKeys(
  config: Pick<Config, "tokens" | "runtime">,
  logger: Logger,
): IdTokenKey[] {
  if (config.tokens.ID_TOKEN_SIGNING_KEYS.length > 0) return config.tokens.ID_TOKEN_SIGNING_KEYS;
  if (config.runtime.NODE_ENV === "production") {
    logger.warn(
      "ID_TOKEN_SIGNING_KEYS is not set: ID tokens are signed with the access-token key, which relying parties that only accept RS256 refuse",
    );
    return [];
  }
  if (config.runtime.NODE_ENV === "test") return [idTokenKey(generatedRsaKey())];
  return parseIdTokenKeys(
    developmentKeyPem(
      resolve(config.runtime.DATA_DIR, "id-token-signing-key.pem"),
      generatedRsaKey,
    ),
  );
}
