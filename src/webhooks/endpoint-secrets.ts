import type { DatabasePool } from "slonik";
import {
  countPlainWebhookSecrets,
  listPlainWebhookSecrets,
  replaceWebhookSecret,
  type StoredSecret,
} from "../../sql/webhook-endpoints.ts";
import type { TokenBinding, TokenCipher } from "../keys/token-encryption.ts";
import type { Logger } from "../logger.ts";

// An endpoint's signing secret at rest: sealed with the provider-token
// cipher (same keys, same `gatehouse rotate-keys`) and bound to its own row,
// so a database dump, a backup or a read-only SQL account does not hand out
// what forges deliveries to the receivers, and a ciphertext copied into
// another endpoint's row does not open there. Rows from before secrets were
// sealed keep working in plain text until they are sealed: at start-up
// (sealPlainWebhookSecrets) or by rotate-keys.

export const webhookSecretBinding = (endpointId: string): TokenBinding => ({
  table: "webhook_endpoints",
  row: endpointId,
  column: "sealed_secret",
});

export const sealWebhookSecret = (cipher: TokenCipher, endpointId: string, secret: string) =>
  cipher.encrypt(secret, webhookSecretBinding(endpointId));

/** The secret that signs an endpoint's deliveries. */
export async function openWebhookSecret(
  cipher: () => Promise<TokenCipher>,
  stored: Pick<StoredSecret, "secret" | "sealed_secret"> & { id: string },
): Promise<string> {
  if (stored.sealed_secret === null) {
    if (stored.secret === null) throw new Error("endpoint has no secret");
    return stored.secret;
  }
  return (await cipher()).decrypt(stored.sealed_secret, webhookSecretBinding(stored.id));
}

/**
 * Seals the secrets still stored in plain text; how many it sealed. Each
 * row is swapped only if unchanged, so replicas starting together, or a
 * rotation running meanwhile, seal each secret once.
 */
export async function sealPlainWebhookSecrets(
  pool: DatabasePool,
  cipher: TokenCipher,
  batchSize = 100,
): Promise<number> {
  let sealed = 0;
  let after: string | null = null;
  for (;;) {
    const batch = await listPlainWebhookSecrets(pool, after, batchSize);
    if (batch.length === 0) return sealed;
    for (const row of batch) {
      const next = await sealWebhookSecret(cipher, row.id, row.secret as string);
      if (await replaceWebhookSecret(pool, row, next)) sealed++;
    }
    after = batch.at(-1)?.id ?? after;
  }
}

/**
 * At start-up, in the background: seals the secrets still in plain text.
 * A failure (no key in production, the database away) is logged and tried
 * again at the next start or by rotate-keys; until then those rows sign as
 * before.
 */
export function sealPlainSecretsAtStart(deps: {
  pool: DatabasePool;
  logger: Logger;
  tokenCipher: () => Promise<TokenCipher>;
}): Promise<void> {
  const { pool, logger, tokenCipher } = deps;
  return (async () => {
    // Loads no key (and makes no development key) while there is nothing to seal.
    if ((await countPlainWebhookSecrets(pool)) === 0) return;
    const sealed = await sealPlainWebhookSecrets(pool, await tokenCipher());
    logger.info({ sealed }, "webhook signing secrets sealed");
  })().catch((error: unknown) => {
    logger.warn(
      { err: error },
      "webhook signing secrets stay in plain text until the next start or gatehouse rotate-keys",
    );
  });
}
