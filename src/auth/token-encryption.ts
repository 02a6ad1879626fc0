import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { type Config, ConfigError } from "../config.ts";
import type { Logger } from "../logger.ts";

// Provider tokens at rest: AES-256-GCM through WebCrypto. A ciphertext reads
// `v1.<key id>.<iv>.<sealed>` (base64url parts), so any configured key can
// open it and rotation knows which rows still use an old key. The version and
// key id are authenticated as additional data: relabelling a ciphertext with
// another key id makes it fail to open rather than decrypt under a wrong key.

export type EncryptionKey = { id: string; key: Uint8Array<ArrayBuffer> };

export class UnknownEncryptionKey extends Error {
  override name = "UnknownEncryptionKey";
}

export type TokenCipher = {
  /** Id of the key new ciphertexts are sealed with. */
  currentKeyId: string;
  encrypt: (plaintext: string) => Promise<string>;
  decrypt: (ciphertext: string) => Promise<string>;
};

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
    encrypt: async (plaintext) => {
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const header = `v1.${current.id}`;
      const sealed = await crypto.subtle.encrypt(
        { name: "AES-GCM", iv, additionalData: encoder.encode(header) },
        currentKey,
        encoder.encode(plaintext),
      );
      return `${header}.${b64url(iv)}.${b64url(new Uint8Array(sealed))}`;
    },
    decrypt: async (ciphertext) => {
      const [version, keyId, iv, sealed] = ciphertext.split(".");
      if (version !== "v1" || !keyId || !iv || !sealed) throw new Error("not a v1 ciphertext");
      const key = cryptoKeys.get(keyId);
      if (!key) throw new UnknownEncryptionKey(`no configured key has id ${keyId}`);
      const opened = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: fromB64url(iv), additionalData: encoder.encode(`v1.${keyId}`) },
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
  return version === "v1" && keyId ? keyId : null;
}

/**
 * TOKEN_ENCRYPTION_KEYS when set. Outside production, when unset, a key is
 * generated once and kept under DATA_DIR so restarts can still decrypt; in
 * production an unset value is a configuration error.
 */
export async function loadEncryptionKeys(config: Config, logger: Logger): Promise<EncryptionKey[]> {
  if (config.TOKEN_ENCRYPTION_KEYS.length > 0) return config.TOKEN_ENCRYPTION_KEYS;
  if (config.NODE_ENV === "production") {
    throw new ConfigError(
      "TOKEN_ENCRYPTION_KEYS: required in production (kid:base64 of 32 random bytes)",
    );
  }
  const file = resolve(config.DATA_DIR, "token-encryption.key");
  let entry: string;
  try {
    entry = (await readFile(file, "utf8")).trim();
  } catch {
    entry = `dev:${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64")}`;
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, `${entry}\n`, { mode: 0o600 });
  }
  logger.warn(
    { file },
    "TOKEN_ENCRYPTION_KEYS is not set: provider tokens are encrypted with a development key kept in this file",
  );
  const [id, key] = entry.split(":");
  return [{ id: id ?? "dev", key: new Uint8Array(Buffer.from(key ?? "", "base64")) }];
}
