import type { DatabasePool } from "slonik";
import {
  countTokensByKey,
  listAccountsNotUnderKey,
  replaceAccountTokens,
} from "../../sql/oauth-accounts.ts";
import { createTokenCipher, type EncryptionKey, keyIdOf } from "../auth/token-encryption.ts";

// Re-encrypts stored provider tokens under the first configured key. Each
// batch commits on its own and rows already under the current key are never
// selected, so an interrupted run simply continues where it stopped and a
// second run finds nothing to do.

export class UnconfiguredKeys extends Error {
  override name = "UnconfiguredKeys";
  constructor(readonly counts: Record<string, number>) {
    super(
      `stored tokens name keys that are not configured (${Object.entries(counts)
        .map(([id, n]) => `${id}: ${n} tokens`)
        .join(", ")}); add them to TOKEN_ENCRYPTION_KEYS after the new key and run again`,
    );
  }
}

export type KeyRotationReport = {
  current_key: string;
  before: Record<string, number>;
  after: Record<string, number>;
  rows_rotated: number;
  batches: number;
  /** False when stopped by maxBatches with rows still to do. */
  finished: boolean;
};

const asRecord = (rows: readonly { key_id: string; tokens: number }[]) =>
  Object.fromEntries(rows.map((r) => [r.key_id, r.tokens]));

export async function rotateEncryptionKeys({
  pool,
  keys,
  batchSize = 100,
  maxBatches = Number.POSITIVE_INFINITY,
  onProgress,
}: {
  pool: DatabasePool;
  keys: readonly EncryptionKey[];
  batchSize?: number;
  maxBatches?: number;
  onProgress?: (rowsDone: number) => void;
}): Promise<KeyRotationReport> {
  const cipher = await createTokenCipher(keys);
  const configured = new Set(keys.map((k) => k.id));
  const before = asRecord(await countTokensByKey(pool));
  const unknown = Object.fromEntries(Object.entries(before).filter(([id]) => !configured.has(id)));
  if (Object.keys(unknown).length > 0) throw new UnconfiguredKeys(unknown);

  const reseal = async (token: string | null) =>
    token === null || keyIdOf(token) === cipher.currentKeyId
      ? token
      : cipher.encrypt(await cipher.decrypt(token));

  let rotated = 0;
  let batches = 0;
  let afterId: string | null = null;
  let finished = false;
  while (batches < maxBatches) {
    const batch = await listAccountsNotUnderKey(pool, cipher.currentKeyId, afterId, batchSize);
    if (batch.length === 0) {
      finished = true;
      break;
    }
    await pool.transaction(async (tx) => {
      for (const row of batch) {
        const next = {
          access_token: await reseal(row.access_token),
          refresh_token: await reseal(row.refresh_token),
        };
        if (await replaceAccountTokens(tx, row, next)) rotated++;
      }
    });
    afterId = batch.at(-1)?.id ?? afterId;
    batches++;
    onProgress?.(rotated);
  }
  if (!finished) {
    finished = (await listAccountsNotUnderKey(pool, cipher.currentKeyId, null, 1)).length === 0;
  }
  return {
    current_key: cipher.currentKeyId,
    before,
    after: asRecord(await countTokensByKey(pool)),
    rows_rotated: rotated,
    batches,
    finished,
  };
}
