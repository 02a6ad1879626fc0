import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { type Config, ConfigError } from "../config/index.ts";
import type { Logger } from "../logger.ts";

// Provider tokens at rest: AES-256-GCM through WebCrypto. A ciphertext reads
// `v2.<key id>.<iv>.<sealed>` (base64url parts), so any configured key can
// open it and rotation knows which rows still use an old key. The version,
// key id and the place the ciphertext belongs to (table, row id, column) are
// authenticated as additional data: relabelling the key id, or copying a
// ciphertext into another row or column, makes it fail to open rather than
// hand one account's token to another. `v1` ciphertexts (version and key id
// only) still open anywhere; `rotate-keys` rewrites them as v2.

export type EncryptionKey = { id: string; key: Uint8Array<ArrayBuffer> };

export class UnknownEncryptionKey extends Error {
  override name = "UnknownEncryptionKey";
}

/** Where a ciphertext is stored; it opens only there. */
export type TokenBinding = { table: string; row: string; column: string };

export type TokenCipher = {
  /** Id of the key new ciphertexts are sealed with. */
  currentKeyId: string;
  encrypt: (plaintext: string, binding: TokenBinding) => Promise<string>;
  decrypt: (ciphertext: string, binding: TokenBinding) => Promise<string>;
};

export const currentFormat = "v2";

// Parts joined with a separator none of them can contain unescaped.
const additionalData = (version: string, keyId: string, binding: TokenBinding | null) =>
  new TextEncoder().encode(
    binding
      ? JSON.stringify([version, keyId, binding.table, binding.row, binding.column])
      : `${version}.${keyId}`,
  );

const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url");
const fromB64url = (text: string) => new Uint8Array(Buffer.from(text, "base64url"));

export async function createTokenCipher(keys: readonly EncryptionKey[]): Promise<TokenCipher> {
  const [current] = keys;
  if (!current) throw new Error("at least one encryption key is needed");
  const cryptoKeys = new Map<string, CryptoKey>();
  for (const { id, key } of keys) {
    cryptoKeys.set(
      id,
      await crypto.subtle.importKey("raw", key, "AES-GCM", false, ["encrypt", "decrypt"]),
    );
  }
  const currentKey = cryptoKeys.get(current.id) as CryptoKey;
  const encoder = new TextEncoder();

  return {
    currentKeyId: current.id,
    encrypt: async (plaintext, binding) => {
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const sealed = await crypto.subtle.encrypt(
        { name: "AES-GCM", iv, additionalData: additionalData(currentFormat, current.id, binding) },
        currentKey,
        encoder.encode(plaintext),
      );
      return `${currentFormat}.${current.id}.${b64url(iv)}.${b64url(new Uint8Array(sealed))}`;
    },
    decrypt: async (ciphertext, binding) => {
      const [version, keyId, iv, sealed, ...rest] = ciphertext.split(".");
      if ((version !== "v1" && version !== "v2") || !keyId || !iv || !sealed || rest.length > 0) {
        throw new Error("not a token ciphertext");
      }
      const key = cryptoKeys.get(keyId);
      if (!key) throw new UnknownEncryptionKey(`no configured key has id ${keyId}`);
      const opened = await crypto.subtle.decrypt(
        {
          name: "AES-GCM",
          iv: fromB64url(iv),
          additionalData: additionalData(version, keyId, version === "v1" ? null : binding),
        },
        key,
        fromB64url(sealed),
      );
      return new TextDecoder().decode(opened);
    },
  };
}

/** The key id a ciphertext names, without opening it. */
export function keyIdOf(ciphertext: string): string | null {
  const [version, keyId] = ciphertext.split(".");
  return (version === "v1" || version === "v2") && keyId ? keyId : null;
}

/** True when the ciphertext is sealed in the current format under `keyId`: nothing to rewrite. */
export function isCurrent(ciphertext: string, keyId: string): boolean {
  const [version, id] = ciphertext.split(".");
  return version === currentFormat && id === keyId;
}

/**
 * TOKEN_ENCRYPTION_KEYS when set. Outside production, when unset, a key is
 * generated once and kept under DATA_DIR so restarts can still decrypt; in
 * production an unset value is a configuration error.
 */
export async function loadEncryptionKeys(
  config: Pick<Config, "providers" | "runtime">,
  logger: Logger,
): Promise<EncryptionKey[]> {
  return configuredOrDevelopmentKeys(config, logger, {
    configured: config.providers.TOKEN_ENCRYPTION_KEYS,
    name: "TOKEN_ENCRYPTION_KEYS",
    productionHint: "required in production (kid:base64 of 32 random bytes)",
    file: "token-encryption.key",
    what: "provider tokens are encrypted",
  });
}

/**
 * The keys a setting names; outside production, when it is unset, one key
 * generated once and kept in `file` under DATA_DIR (so restarts still read
 * what it sealed); in production an unset setting is a configuration error.
 */
export async function configuredOrDevelopmentKeys(
  config: Pick<Config, "runtime">,
  logger: Logger,
  setting: {
    configured: readonly EncryptionKey[];
    name: string;
    productionHint: string;
    file: string;
    what: string;
  },
): Promise<EncryptionKey[]> {
  if (setting.configured.length > 0) return [...setting.configured];
  if (config.runtime.NODE_ENV === "production") {
    throw new ConfigError(`${setting.name}: ${setting.productionHint}`);
  }
  const file = resolve(config.runtime.DATA_DIR, setting.file);
  logger.warn(
    { file },
    `${setting.name} is not set: ${setting.what} with a development key kept in this file`,
  );
  return [await readOrCreateDevelopmentKey(file)];
}

/** A `kid:base64` key kept in `file`, made (32 random bytes, id `dev`) on first use. */
export async function readOrCreateDevelopmentKey(file: string): Promise<EncryptionKey> {
  let entry: string;
  try {
    entry = (await readFile(file, "utf8")).trim();
  } catch {
    entry = `dev:${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64")}`;
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, `${entry}\n`, { mode: 0o600 });
  }
  const [id, key] = entry.split(":");
  return { id: id ?? "dev", key: new Uint8Array(Buffer.from(key ?? "", "base64")) };
}

/**
 * The provider-token cipher, loaded on first use: a development key is made
 * only once a provider sign-in needs one, and a failed load is tried again
 * at the next sign-in.
 */
export function lazyTokenCipher(
  config: Pick<Config, "providers" | "runtime">,
  logger: Logger,
): () => Promise<TokenCipher> {
  let cipher: Promise<TokenCipher> | null = null;
  return () => {
    cipher ??= loadEncryptionKeys(config, logger)
      .then(createTokenCipher)
      .catch((error: unknown) => {
        cipher = null;
        throw error;
      });
    return cipher;
  };
}
