import type { DatabasePool } from "slonik";
import {
  countTotpSecretsByKey,
  listTotpSecretsNotUnderKey,
  replaceTotpSecret,
} from "../../sql/mfa-totp.ts";
import {
  countTokensByKey,
  listAccountsNotUnderKey,
  replaceAccountTokens,
} from "../../sql/oauth-accounts.ts";
import {
  createTokenCipher,
  currentFormat,
  type EncryptionKey,
  isCurrent,
} from "../keys/token-encryption.ts";
import { totpSecretBinding } from "../mfa/totp-secrets.ts";
import { type AccountTokenColumn, bindingOf } from "../providers/provider-tokens.ts";

// Re-encrypts stored provider tokens and TOTP secrets (sealed with the same
// keys) under the first configured key, in the
// current format (bound to their row and column; older unbound ones are
// upgraded even when their key is already the current one). Each
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
  /**
   * Tokens that did not open for their row (copied from elsewhere or
   * tampered with): left as they are, and read as absent.
   */
  unreadable: number;
  batches: number;
  /** False when stopped by maxBatches with rows still to do. */
  finished: boolean;
};

const asRecord = (rows: readonly { key_id: string; tokens: number }[]) => {
  const counts: Record<string, number> = {};
  for (const row of rows) counts[row.key_id] = (counts[row.key_id] ?? 0) + row.tokens;
  return counts;
};

/** Ciphertexts per key: provider tokens and TOTP secrets together. */
const countByKey = async (pool: DatabasePool) =>
  asRecord([...(await countTokensByKey(pool)), ...(await countTotpSecretsByKey(pool))]);

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
  const before = await countByKey(pool);
  const unknown = Object.fromEntries(Object.entries(before).filter(([id]) => !configured.has(id)));
  if (Object.keys(unknown).length > 0) throw new UnconfiguredKeys(unknown);

  let unreadable = 0;
  const reseal = async (id: string, column: AccountTokenColumn, token: string | null) => {
    if (token === null || isCurrent(token, cipher.currentKeyId)) return token;
    const binding = bindingOf(id, column);
    try {
      return await cipher.encrypt(await cipher.decrypt(token, binding), binding);
    } catch {
      unreadable++;
      return token;
    }
  };

  let rotated = 0;
  let batches = 0;
  let afterId: string | null = null;
  let finished = false;
  while (batches < maxBatches) {
    const batch = await listAccountsNotUnderKey(
      pool,
      currentFormat,
      cipher.currentKeyId,
      afterId,
      batchSize,
    );
    if (batch.length === 0) {
      finished = true;
      break;
    }
    await pool.transaction(async (tx) => {
      for (const row of batch) {
        const next = {
          access_token: await reseal(row.id, "access_token", row.access_token),
          refresh_token: await reseal(row.id, "refresh_token", row.refresh_token),
        };
        const changed =
          next.access_token !== row.access_token || next.refresh_token !== row.refresh_token;
        if (changed && (await replaceAccountTokens(tx, row, next))) rotated++;
      }
    });
    afterId = batch.at(-1)?.id ?? afterId;
    batches++;
    onProgress?.(rotated);
  }
  if (!finished) {
    const left = await listAccountsNotUnderKey(pool, currentFormat, cipher.currentKeyId, null, 1);
    finished = left.length === 0;
  }

  // Then the TOTP secrets, the same way, within the same batch budget.
  let totpDone = false;
  let afterUser: string | null = null;
  while (finished && !totpDone && batches < maxBatches) {
    const batch = await listTotpSecretsNotUnderKey(
      pool,
      currentFormat,
      cipher.currentKeyId,
      afterUser,
      batchSize,
    );
    if (batch.length === 0) {
      totpDone = true;
      break;
    }
    await pool.transaction(async (tx) => {
      for (const row of batch) {
        const binding = totpSecretBinding(row.user_id);
        let next: string;
        try {
          next = await cipher.encrypt(await cipher.decrypt(row.secret, binding), binding);
        } catch {
          unreadable++;
          continue;
        }
        if (await replaceTotpSecret(tx, row, next)) rotated++;
      }
    });
    afterUser = batch.at(-1)?.user_id ?? afterUser;
    batches++;
    onProgress?.(rotated);
  }
  if (finished && !totpDone) {
    const left = await listTotpSecretsNotUnderKey(
      pool,
      currentFormat,
      cipher.currentKeyId,
      null,
      1,
    );
    finished = left.length === 0;
  }
  return {
    current_key: cipher.currentKeyId,
    before,
    after: await countByKey(pool),
    rows_rotated: rotated,
    unreadable,
    batches,
    finished,
  };
}
