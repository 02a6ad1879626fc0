import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { type Config, ConfigError } from "../config/index.ts";
import type { Logger } from "../logger.ts";
import { parseSigningKeys, type SigningKey, signingKey } from "./signing-key-text.ts";

// Loading the access-token signing keys: configured, or (outside
// production) generated. Their format is read in signing-key-text.ts.

function generatedKey(): KeyObject {
  return generateKeyPairSync("ed25519").privateKey;
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
  let pem: string;
  try {
    pem = readFileSync(file, "utf8");
  } catch {
    pem = generatedKey().export({ format: "pem", type: "pkcs8" }).toString();
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, pem, { mode: 0o600 });
  }
  logger.warn(
    { file },
    "JWT_SIGNING_KEYS is not set: access tokens are signed with a development key kept in this file",
  );
  return parseSigningKeys(pem);
}
