import { markEmailVerified, setUserPassword } from "../../sql/user-credentials.ts";
import { findUserById, type User } from "../../sql/users.ts";
import { recordAudit } from "../audit.ts";
import { DomainError } from "../errors.ts";
import { grantRightsOfVerifiedEmail } from "../gate/grant-rights.ts";
import { checkPassword, invalidLink, type PasswordDeps, type RequestFacts } from "./accounts.ts";
import { redeemEmailToken } from "./email-tokens.ts";
import { hashPassword } from "./hashing.ts";
import { reclaimUnverifiedAccount } from "./reclaim.ts";

// Anyone can sign up with an address they do not own and keep the password.
// A confirmation link alone only proves the mailbox, so it confirms only in
// a session of its own account: the mailbox holder and the password holder
// are then one person. A mailbox holder who is not the password holder uses
// the mail's other link ("this was not me"), which takes the account over.

/**
 * POST /auth/email/verify within the session (or bearer token) of
 * `callerId`: marks the address verified and gives it what ADMIN_EMAILS and
 * allowlist rules grant. The link works once, and only for its own account
 * (another account's link is refused, `link_of_another_account`, and stays
 * unused); without a signed-in caller it is `sign_in_to_confirm`.
 */
export async function confirmEmail(
  deps: PasswordDeps,
  callerId: string | null,
  token: string,
  facts: RequestFacts,
): Promise<User> {
  if (callerId === null) throw new DomainError("sign_in_to_confirm");
  return deps.pool.transaction(async (tx) => {
    const used = await redeemEmailToken(tx, token, "email_verification");
    if (!used) throw invalidLink("#/token");
    // Thrown inside the transaction: the redemption rolls back with it.
    if (used.user_id !== callerId) throw new DomainError("link_of_another_account");
    const user = await markEmailVerified(tx, used.user_id);
    if (!user) throw invalidLink("#/token");
    await recordAudit(tx, deps.logger, {
      eventType: "email.verified",
      result: "success",
      userId: user.id,
      ...facts,
    });
    return grantRightsOfVerifiedEmail(tx, deps, user, { ...facts, via: "email_verification" });
  });
}

/**
 * POST /auth/email/not-me: the mailbox holder did not create the account.
 * With the confirmation link's token and a password of their own they take
 * it over, as a password reset would: the squatter's password and profile
 * go, every session, refresh token and bearer token ends, pending links die,
 * and the address is verified, so ADMIN_EMAILS and allowlist rules now apply
 * to its real owner.
 */
export async function disownSignUp(
  deps: PasswordDeps,
  input: { token: string; password: string },
  facts: RequestFacts,
): Promise<User> {
  checkPassword(deps, "#/password", input.password);
  const passwordHash = await hashPassword(input.password, deps.config.passwords);
  return deps.pool.transaction(async (tx) => {
    const used = await redeemEmailToken(tx, input.token, "email_verification");
    const holder = used ? await findUserById(tx, used.user_id) : null;
    // As for a provider's proof: an account an administrator deactivated or
    // locked stays as it is (the administrator can sort it out).
    if (!holder || holder.email_verified || holder.status !== "active") {
      throw invalidLink("#/token");
    }
    const reclaimed = await reclaimUnverifiedAccount(tx, deps.logger, holder, {
      provider: null,
      ...facts,
    });
    if (reclaimed === holder) throw invalidLink("#/token");
    const owned = await setUserPassword(tx, holder.id, passwordHash, true);
    if (!owned) throw invalidLink("#/token");
    await recordAudit(tx, deps.logger, {
      eventType: "password.reset",
      result: "success",
      userId: owned.id,
      ...facts,
      context: { via: "not_me_link" },
    });
    return grantRightsOfVerifiedEmail(tx, deps, owned, { ...facts, via: "not_me_link" });
  });
}
