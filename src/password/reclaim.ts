import type { DatabaseTransactionConnection } from "slonik";
import { reclaimUnverifiedUser } from "../../sql/user-credentials.ts";
import type { User } from "../../sql/users.ts";
import { deleteVerificationTokensOfUser } from "../../sql/verification-tokens.ts";
import { recordAudit } from "../audit.ts";
import type { Logger } from "../logger.ts";
import { revokeAllAccess } from "../users/administration.ts";

/**
 * Pre-account takeover: anyone can sign up with an address they do not own
 * and wait, signed in, for its owner to arrive. When the owner then proves
 * the address (a provider that verified it, or the "this was not me" link of
 * the confirmation mail), the account becomes theirs and
 * the squatter is shut out: the password and profile the squatter chose are
 * dropped, every session and token ends, pending links die, and the address
 * is verified. Call it inside the transaction that links the provider
 * account or sets the owner's password, so the user is never left without a
 * way to sign in. Returns the
 * reclaimed user, or the user unchanged when its address was verified.
 */
export async function reclaimUnverifiedAccount(
  tx: DatabaseTransactionConnection,
  logger: Logger,
  user: User,
  /** The provider that verified the address, or none: the mailbox holder used the "not me" link. */
  proof: { provider: string | null; ip: string | null; userAgent: string | null },
): Promise<User> {
  if (user.email_verified) return user;
  const reclaimed = await reclaimUnverifiedUser(tx, user.id);
  if (!reclaimed) return user;
  const revoked = await revokeAllAccess(tx, user.id, "account_reclaimed");
  await deleteVerificationTokensOfUser(tx, user.id);
  await recordAudit(tx, logger, {
    eventType: "account.reclaimed",
    result: "success",
    userId: user.id,
    ip: proof.ip,
    userAgent: proof.userAgent,
    context: {
      ...(proof.provider ? { provider: proof.provider } : { via: "not_me_link" }),
      dropped_password: user.password_hash !== null,
      revoked_sessions: revoked.sessions,
    },
  });
  return reclaimed;
}
