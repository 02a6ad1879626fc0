import type { DatabasePool, DatabaseTransactionConnection } from "slonik";
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
  countWebhookSecretsByKey,
  listWebhookSecretsNotUnderKey,
  replaceWebhookSecret,
} from "../../sql/webhook-endpoints.ts";
import {
  createTokenCipher,
  currentFormat,
  type EncryptionKey,
  isCurrent,
  type TokenBinding,
} from "../keys/token-encryption.ts";
import { totpSecretBinding } from "../mfa/totp-secrets.ts";
import { type AccountTokenColumn, bindingOf } from "../providers/provider-tokens.ts";
import { webhookSecretBinding } from "../webhooks/endpoint-secrets.ts";

// Re-encrypts stored provider tokens, TOTP secrets and webhook signing
// secrets (sealed with the same keys) under the first configured key, in the
// current format (bound to their row and column; older unbound ones are
// upgraded even when their key is already the current one). Each
// batch commits on its own and rows already under the current key are never
// selected, so an interrupted run simply continues where it stopped and a
// second run finds nothing to do. Webhook secrets still in plain text (from
// before they were sealed) are sealed too.

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

/** Ciphertexts per key: provider tokens, TOTP secrets and webhook secrets together. */
const countByKey = async (pool: DatabasePool) =>
  asRecord([
    ...(await countTokensByKey(pool)),
    ...(await countTotpSecretsByKey(pool)),
    ...(await countWebhookSecretsByKey(pool)),
  ]);

/** One kind of sealed row: a keyset batch of those not under the current key, and resealing one. */
type SealedRows<Row extends { id: string }> = {
  list: (afterId: string | null, limit: number) => Promise<readonly Row[]>;
  reseal: (tx: DatabaseTransactionConnection, row: Row) => Promise<boolean>;
};

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
  /** The sealed value under the current key, or null when it does not open for its binding. */
  const resealed = async (sealed: string, binding: TokenBinding): Promise<string | null> => {
    try {
      return await cipher.encrypt(await cipher.decrypt(sealed, binding), binding);
    } catch {
      unreadable++;
      return null;
    }
  };
  const resealToken = async (id: string, column: AccountTokenColumn, token: string | null) => {
    if (token === null || isCurrent(token, cipher.currentKeyId)) return token;
    return (await resealed(token, bindingOf(id, column))) ?? token;
  };
  const keyId = cipher.currentKeyId;

  let rotated = 0;
  let batches = 0;
  /** Reseals every row of a kind within the batch budget; false when stopped with rows left. */
  const resealAll = async <Row extends { id: string }>(kind: SealedRows<Row>) => {
    let after: string | null = null;
    while (batches < maxBatches) {
      const batch = await kind.list(after, batchSize);
      if (batch.length === 0) return true;
      await pool.transaction(async (tx) => {
        for (const row of batch) if (await kind.reseal(tx, row)) rotated++;
      });
      after = batch.at(-1)?.id ?? after;
      batches++;
      onProgress?.(rotated);
    }
    return (await kind.list(null, 1)).length === 0;
  };

  // Provider tokens first, then TOTP secrets, then webhook secrets, within the one batch budget.
  const finished =
    (await resealAll({
      list: (after, limit) => listAccountsNotUnderKey(pool, currentFormat, keyId, after, limit),
      reseal: async (tx, row) => {
        const next = {
          access_token: await resealToken(row.id, "access_token", row.access_token),
          refresh_token: await resealToken(row.id, "refresh_token", row.refresh_token),
        };
        const changed =
          next.access_token !== row.access_token || next.refresh_token !== row.refresh_token;
        return changed && (await replaceAccountTokens(tx, row, next));
      },
    })) &&
    (await resealAll({
      list: async (after, limit) =>
        (
          await listTotpSecretsNotUnderKey(pool, currentFormat, keyId, after, limit)
        ).map((row) => ({ ...row, id: row.user_id })),
      reseal: async (tx, row) => {
        const next = await resealed(row.secret, totpSecretBinding(row.user_id));
        return next !== null && (await replaceTotpSecret(tx, row, next));
      },
    })) &&
    (await resealAll({
      list: (after, limit) =>
        listWebhookSecretsNotUnderKey(pool, currentFormat, keyId, after, limit),
      reseal: async (tx, row) => {
        const binding = webhookSecretBinding(row.id);
        const next =
          row.sealed_secret !== null
            ? await resealed(row.sealed_secret, binding)
            : await cipher.encrypt(row.secret as string, binding);
        return next !== null && (await replaceWebhookSecret(tx, row, next));
      },
    }));
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
