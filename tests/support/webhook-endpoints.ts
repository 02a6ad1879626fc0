import type { DatabasePool } from "slonik";
import type { Config } from "../../src/config/index.ts";
import { createTokenCipher, loadEncryptionKeys } from "../../src/keys/token-encryption.ts";
import { insertSealedEndpoint } from "../../src/webhooks/endpoints.ts";
import { testLogger } from "./database.ts";

/**
 * An endpoint stored as Gatehouse stores one (its secret sealed with the
 * keys `config` names), its URL not checked: for tests that need a row the
 * API would refuse, or one without an administrator.
 */
export async function plantWebhookEndpoint(
  pool: DatabasePool,
  config: Pick<Config, "providers" | "runtime">,
  endpoint: { url: string; events: readonly string[]; secret: string; createdBy: string | null },
) {
  const cipher = await createTokenCipher(await loadEncryptionKeys(config, testLogger));
  return insertSealedEndpoint(pool, cipher, endpoint);
}
