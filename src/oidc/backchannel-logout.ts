import type { DatabasePool } from "slonik";
import { z } from "zod";
import { findOAuthClient } from "../../sql/oauth-clients.ts";

export { backchannelLogoutTask } from "../../sql/backchannel-logouts.ts";

import type { Logger } from "../logger.ts";
import type { IdTokens } from "./id-tokens.ts";

// OpenID Connect Back-Channel Logout 1.0: a relying party that registered a
// backchannel_logout_uri is sent a signed logout token when its user's
// sign-in ends (backchannel-events.ts says which events; recordAudit queues
// a job per client in the same transaction). The job runs on the delivery
// queue's worker, off every user's request; a failure is retried twice by
// the queue, then given up (best effort, as §2.8 allows).

/** How long a relying party has to answer (§2.8: the OP must not wait long). */
export const backchannelLogoutTimeoutMs = 5000;

export const backchannelLogoutJob = z.object({ client_id: z.uuid(), user_id: z.uuid() });

export type BackchannelDeps = {
  pool: DatabasePool;
  logger: Logger;
  idTokens: Pick<IdTokens, "signLogoutToken">;
};

/**
 * Sends one logout token. The URI was registered by an administrator, as the
 * redirect URIs are, so it may name an address inside the network (unlike a
 * webhook's); redirects are not followed. Throws when the relying party did
 * not take it, so the queue tries again.
 */
export async function sendBackchannelLogout(
  deps: BackchannelDeps,
  payload: unknown,
): Promise<void> {
  const job = backchannelLogoutJob.parse(payload);
  const client = await findOAuthClient(deps.pool, job.client_id);
  // Removed since, or no longer listening: nothing to tell.
  if (!client?.backchannel_logout_uri) return;
  const logoutToken = await deps.idTokens.signLogoutToken({
    sub: job.user_id,
    clientId: client.id,
    alg: client.id_token_signed_response_alg,
  });
  const log = { clientId: client.id, userId: job.user_id };
  let status: number;
  try {
    const answer = await fetch(client.backchannel_logout_uri, {
      method: "POST",
      redirect: "manual",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "user-agent": "Gatehouse-Backchannel-Logout",
      },
      body: new URLSearchParams({ logout_token: logoutToken }).toString(),
      signal: AbortSignal.timeout(backchannelLogoutTimeoutMs),
    });
    status = answer.status;
    await answer.body?.cancel();
  } catch (error) {
    deps.logger.info({ ...log, err: error }, "back-channel logout not delivered");
    throw new Error("back-channel logout not delivered");
  }
  // §2.8: 200 (or 204) is success; anything else is the relying party's refusal.
  if (status !== 200 && status !== 204) {
    deps.logger.info({ ...log, status }, "back-channel logout refused");
    throw new Error(`back-channel logout answered ${status}`);
  }
  deps.logger.debug(log, "back-channel logout delivered");
}
