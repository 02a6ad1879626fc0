import { findOAuthAccount, insertOAuthAccountIfAbsent } from "../../sql/oauth-accounts.ts";
import { lockUserById } from "../../sql/user-changes.ts";
import { type AuditedDeps, type RequestFacts, recordAudit } from "../audit.ts";
import type { TokenCipher } from "../keys/token-encryption.ts";
import { sealAccountTokens } from "../providers/provider-tokens.ts";
import type { ProviderIdentity } from "../providers/sign-in-providers.ts";

// Linking a provider on purpose: a signed-in person started the flow from
// the account page, so the identity the provider returns joins their
// account whatever its email says. It is refused when that identity is
// already another account's (it would move a way in from one person to
// another), or when the account already has a different identity there.

export type LinkOutcome = "linked" | "already_linked" | "taken" | "other_linked";

export async function linkProviderToUser(
  { pool, logger, cipher }: AuditedDeps & { cipher: TokenCipher },
  userId: string,
  identity: ProviderIdentity,
  request: RequestFacts,
): Promise<LinkOutcome> {
  return pool.transaction(async (tx) => {
    // Under the user's row lock: two links started at once settle one by one.
    if (!(await lockUserById(tx, userId))) return "taken";
    const known = await findOAuthAccount(tx, identity.provider, identity.providerUserId);
    if (known) return known.user_id === userId ? "already_linked" : "taken";
    const id = crypto.randomUUID();
    const inserted = await insertOAuthAccountIfAbsent(tx, {
      id,
      userId,
      provider: identity.provider,
      providerUserId: identity.providerUserId,
      email: identity.email,
      emailVerified: identity.emailVerified,
      ...(await sealAccountTokens(cipher, id, identity.tokens)),
      tokenType: identity.tokens.tokenType,
      scope: identity.tokens.scope,
      expiresAt: identity.tokens.expiresAt,
    });
    if (!inserted) {
      // Someone else's link of the same identity committed first, or the
      // user already has another identity there (read again: a new statement
      // sees what committed meanwhile).
      const winner = await findOAuthAccount(tx, identity.provider, identity.providerUserId);
      if (winner) return winner.user_id === userId ? "already_linked" : "taken";
      return "other_linked";
    }
    await recordAudit(tx, logger, {
      eventType: "account.linked",
      result: "success",
      userId,
      ...request,
      context: {
        provider: identity.provider,
        provider_user_id: identity.providerUserId,
        explicit: true,
      },
    });
    return "linked";
  });
}
