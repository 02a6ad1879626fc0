import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import type { Config } from "../config/index.ts";
import { configuredOrDevelopmentKeys, type EncryptionKey } from "../keys/token-encryption.ts";
import type { Logger } from "../logger.ts";

// Who made a backup, not only whether it is intact: its metadata carries an
// HMAC-SHA256 under a key from BACKUP_SIGNING_KEYS. The metadata holds the
// data file's SHA-256, its tables, row counts and migrations, so the MAC
// over the metadata covers the whole backup. A file planted in BACKUP_DIR by
// someone without the key (say, one that restores an extra admin) fails the
// check. The key is its own setting rather than derived from the token or
// JWT keys: backups outlive those keys' rotations and may be restored on
// another host, and whoever holds backups needs no key that opens tokens.

export const backupSignature = z.object({
  algorithm: z.literal("hmac-sha256"),
  key_id: z.string(),
  mac: z.string().regex(/^[0-9a-f]{64}$/),
});
export type BackupSignature = z.infer<typeof backupSignature>;

export type SignatureCheck =
  | { status: "valid"; keyId: string }
  | { status: "unsigned" }
  | { status: "unknown_key"; keyId: string }
  | { status: "invalid"; keyId: string };

/** JSON with every object's keys sorted: the same bytes for the same metadata. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

function macOf(metadata: Record<string, unknown>, key: EncryptionKey): Buffer {
  const { signature: _ignored, ...signed } = metadata;
  return createHmac("sha256", key.key)
    .update(`gatehouse-backup-metadata\n${canonicalJson(signed)}`)
    .digest();
}

export function signBackupMetadata(
  metadata: Record<string, unknown>,
  key: EncryptionKey,
): BackupSignature {
  return { algorithm: "hmac-sha256", key_id: key.id, mac: macOf(metadata, key).toString("hex") };
}

export function checkBackupSignature(
  metadata: Record<string, unknown> & { signature?: BackupSignature | undefined },
  keys: readonly EncryptionKey[],
): SignatureCheck {
  const { signature } = metadata;
  if (!signature) return { status: "unsigned" };
  const key = keys.find((k) => k.id === signature.key_id);
  if (!key) return { status: "unknown_key", keyId: signature.key_id };
  const expected = macOf(metadata, key);
  const given = Buffer.from(signature.mac, "hex");
  return given.length === expected.length && timingSafeEqual(given, expected)
    ? { status: "valid", keyId: key.id }
    : { status: "invalid", keyId: key.id };
}

/**
 * BACKUP_SIGNING_KEYS when set. Outside production, when unset, a key kept
 * under DATA_DIR; in production an unset value is a configuration error.
 */
export async function loadBackupSigningKeys(
  config: Pick<Config, "ops" | "runtime">,
  logger: Logger,
): Promise<EncryptionKey[]> {
  return configuredOrDevelopmentKeys(config, logger, {
    configured: config.ops.BACKUP_SIGNING_KEYS,
    name: "BACKUP_SIGNING_KEYS",
    productionHint:
      "required in production to sign and check backups (kid:base64 of 32 random bytes)",
    file: "backup-signing.key",
    what: "backups are signed",
  });
}
