import type { DatabaseTransactionConnection } from "slonik";
import { type DatabasePool, UniqueIntegrityConstraintViolationError } from "slonik";
import { githubAllowlistRuleKinds } from "../../sql/allowlist-rules.ts";
import {
  findOAuthAccount,
  findOAuthAccountOfUser,
  insertOAuthAccountIfAbsent,
  type NewOAuthAccount,
  updateOAuthAccountAtSignIn,
} from "../../sql/oauth-accounts.ts";
import { findUserByEmail, findUserById, insertUser, type User } from "../../sql/users.ts";
import { type RequestFacts, recordAudit } from "../audit.ts";
import { DomainError } from "../errors.ts";
import { decideSignInGrants } from "../gate/sign-in-grants.ts";
import type { TokenCipher } from "../keys/token-encryption.ts";
import { signUps } from "../metrics.ts";
import { reclaimUnverifiedAccount } from "../password/reclaim.ts";
import { sealAccountTokens } from "../providers/provider-tokens.ts";
import type { MembershipNeeds, ProviderIdentity } from "../providers/sign-in-providers.ts";
import { type DigestDeps, digestSoon } from "../users/approval-digest.ts";

// What a successful provider callback does to our data, in one transaction:
//   1. a known (provider, provider_user_id) is that user: tokens refreshed;
//   2. else a provider-verified email that belongs to a user whose own email
//      is verified links the account to that user (a password sign-up that
//      never verified the address is reclaimed first: see reclaim.ts);
//   3. else a new user, approved only by an allowlist rule or ADMIN_EMAILS.
// Links are bound to (provider, provider_user_id), never to an email alone,
// and an unverified email neither links nor is stored on the user: a provider
// that lets anyone type any address would otherwise hand over the account of
// whoever owns it (or let an attacker pre-claim it before its owner arrives).

/** A provider sign-in refused for the account's sake; `userId` is for the audit trail. */
export class SignInRefused extends DomainError {
  override name = "SignInRefused";
  declare readonly code: "account_inactive" | "account_conflict";
  constructor(
    code: "account_inactive" | "account_conflict",
    readonly userId: string | null,
  ) {
    super(code);
  }
}

/** Another sign-in of the same identity committed first: start again, it will be found. */
class LostRace extends Error {}

export type ProviderSignIn = { user: User; created: boolean; linked: boolean };

type Deps = DigestDeps & { cipher: TokenCipher };
type AccountFields = Omit<NewOAuthAccount, "id" | "userId" | "provider" | "providerUserId">;

/** Which GitHub memberships the allowlist rules ask about (and so which scopes to request). */
export async function membershipNeeds(pool: DatabasePool): Promise<MembershipNeeds> {
  const kinds = await githubAllowlistRuleKinds(pool);
  return { githubOrgs: kinds.orgs, githubTeams: kinds.teams };
}

export async function signInWithProvider(
  deps: Deps,
  identity: ProviderIdentity,
  request: RequestFacts,
): Promise<ProviderSignIn> {
  // Tokens are sealed for the row they go into (see provider-tokens.ts).
  const stored = async (accountId: string) => ({
    email: identity.email,
    emailVerified: identity.emailVerified,
    ...(await sealAccountTokens(deps.cipher, accountId, identity.tokens)),
    tokenType: identity.tokens.tokenType,
    scope: identity.tokens.scope,
    expiresAt: identity.tokens.expiresAt,
    githubOrgs: identity.githubOrgs ?? null,
    githubTeams: identity.githubTeams ?? null,
  });
  // Twenty browsers finishing the same first sign-in at once: the losers of
  // the unique-constraint race roll back and find the winner's rows.
  for (let attempt = 0; ; attempt++) {
    try {
      const signedIn = await deps.pool.transaction((tx) =>
        signInOnce(deps, tx, identity, stored, request),
      );
      if (signedIn.created) {
        signUps.inc({ method: "provider" });
        if (!signedIn.user.is_whitelisted) digestSoon(deps);
      }
      return signedIn;
    } catch (error) {
      const raced =
        error instanceof LostRace || error instanceof UniqueIntegrityConstraintViolationError;
      if (!raced || attempt >= 4) throw error;
    }
  }
}

async function signInOnce(
  { config, logger }: Deps,
  tx: DatabaseTransactionConnection,
  identity: ProviderIdentity,
  stored: (accountId: string) => Promise<AccountFields>,
  request: RequestFacts,
): Promise<ProviderSignIn> {
  // A new user is created with what the identity grants; an existing one
  // gets it from completeSignIn, like every other sign-in.
  const grants = await decideSignInGrants(tx, config.access.ADMIN_EMAILS, identity);
  const auditContext = {
    provider: identity.provider,
    ...(grants.rule ? { allowlist_rule: `${grants.rule.kind}:${grants.rule.value}` } : {}),
    ...(grants.bootstrapAdmin ? { bootstrap_admin: true } : {}),
  };

  const known = await findOAuthAccount(tx, identity.provider, identity.providerUserId);
  if (known) {
    const user = await findUserById(tx, known.user_id);
    if (user?.status !== "active") throw new SignInRefused("account_inactive", known.user_id);
    await updateOAuthAccountAtSignIn(tx, known.id, await stored(known.id));
    return { user, created: false, linked: false };
  }

  const account = async (userId: string): Promise<NewOAuthAccount> => {
    const id = crypto.randomUUID();
    return {
      id,
      userId,
      provider: identity.provider,
      providerUserId: identity.providerUserId,
      ...(await stored(id)),
    };
  };

  const holder =
    identity.email && identity.emailVerified ? await findUserByEmail(tx, identity.email) : null;
  // A denied address stays denied: signing in anew must not put it back in the queue.
  if (holder?.status === "denied") throw new SignInRefused("account_inactive", holder.id);
  // Someone signed up with this address and never verified it: the provider
  // just proved it belongs to the person signing in, who gets the account
  // without the squatter's password (pre-account takeover).
  const owner =
    holder && !holder.email_verified && holder.status === "active"
      ? await reclaimUnverifiedAccount(tx, logger, holder, {
          provider: identity.provider,
          ...request,
        })
      : holder;
  if (owner?.email_verified) {
    if (owner.status !== "active") throw new SignInRefused("account_inactive", owner.id);
    const existing = await findOAuthAccountOfUser(tx, owner.id, identity.provider);
    // The same identity committed by a concurrent sign-in after our first
    // look: start again and find it. Another identity: the owner already
    // signs in with a different account at this provider.
    if (existing?.provider_user_id === identity.providerUserId) throw new LostRace();
    if (existing) throw new SignInRefused("account_conflict", owner.id);
    if (!(await insertOAuthAccountIfAbsent(tx, await account(owner.id)))) throw new LostRace();
    await recordAudit(tx, logger, {
      eventType: "account.linked",
      result: "success",
      userId: owner.id,
      ...request,
      context: { ...auditContext, provider_user_id: identity.providerUserId },
    });
    return { user: owner, created: false, linked: true };
  }

  // An address held by an inactive user who never verified it stays with
  // them, unused for linking; the newcomer gets an account without an email.
  const email = identity.email && identity.emailVerified && !owner ? identity.email : null;
  const user = await insertUser(tx, {
    email,
    emailVerified: email !== null,
    fullName: identity.fullName,
    avatarUrl: identity.avatarUrl,
    role: grants.bootstrapAdmin ? "admin" : "user",
    isWhitelisted: grants.whitelisted,
    approvedByRuleId: grants.rule?.id ?? null,
    consentAt: config.access.REQUIRE_CONSENT ? new Date() : null,
  });
  if (!(await insertOAuthAccountIfAbsent(tx, await account(user.id)))) throw new LostRace();
  await recordAudit(tx, logger, {
    eventType: "user.created",
    result: "success",
    userId: user.id,
    ...request,
    context: { ...auditContext, whitelisted: user.is_whitelisted, role: user.role },
  });
  return { user, created: true, linked: false };
}
