import type { CommonQueryMethods } from "slonik";
import { type AllowlistRule, findMatchingAllowlistRule } from "../../sql/allowlist-rules.ts";
import { grantSignInRights, type User } from "../../sql/users.ts";

// What a sign-in grants on its own, before any administrator acts: approval
// by an allowlist rule, and administrator rights for ADMIN_EMAILS. Both rest
// on a *verified* email (or a GitHub membership read with the person's own
// token): an unverified address is only a claim, and trusting it would let
// anyone type an admin's address at a provider that does not check it.

export type SignInIdentity = {
  email: string | null;
  emailVerified: boolean;
  /** Organisation logins the person belongs to (read from GitHub at sign-in). */
  githubOrgs?: readonly string[];
  /** `org/team-slug` of the person's teams (read from GitHub at sign-in). */
  githubTeams?: readonly string[];
};

export type SignInGrants = {
  /** An allowlist rule matched, or the person is a bootstrap admin. */
  whitelisted: boolean;
  /** The verified email is in ADMIN_EMAILS: admin role and approval. */
  bootstrapAdmin: boolean;
  /** The rule that matched, for the audit trail. */
  rule: AllowlistRule | null;
};

/**
 * `ruleNeeded: false` (the user is approved or an administrator decided):
 * no rule is looked up, so the sign-in of someone a rule already let in
 * takes no lock on that rule and never waits for its deletion.
 */
export async function decideSignInGrants(
  db: CommonQueryMethods,
  adminEmails: readonly string[],
  identity: SignInIdentity,
  { ruleNeeded = true }: { ruleNeeded?: boolean } = {},
): Promise<SignInGrants> {
  const verifiedEmail = identity.email && identity.emailVerified ? identity.email : null;
  const bootstrapAdmin =
    verifiedEmail !== null && adminEmails.includes(verifiedEmail.toLowerCase());
  const rule = ruleNeeded
    ? await findMatchingAllowlistRule(db, {
        email: verifiedEmail,
        githubOrgs: identity.githubOrgs ?? [],
        githubTeams: identity.githubTeams ?? [],
      })
    : null;
  return { whitelisted: bootstrapAdmin || rule !== null, bootstrapAdmin, rule };
}

/**
 * What of `grants` `user` still lacks and may get: a right an administrator
 * has decided on (demoted, denied, approved: role_decided_at,
 * approval_decided_at) is theirs to keep, whatever ADMIN_EMAILS and the
 * allowlist rules say, or the next sign-in would undo the decision.
 */
export function grantsDue(
  user: User,
  grants: SignInGrants,
): { whitelist: boolean; admin: boolean } {
  return {
    whitelist: grants.whitelisted && !user.is_whitelisted && user.approval_decided_at === null,
    admin: grants.bootstrapAdmin && user.role !== "admin" && user.role_decided_at === null,
  };
}

/** Gives `user` what `grants` allow and is due (one write, only when it changes something); the user as it now is. */
export async function applySignInGrants(
  db: CommonQueryMethods,
  user: User,
  grants: SignInGrants,
): Promise<User> {
  const due = grantsDue(user, grants);
  if (!due.whitelist && !due.admin) return user;
  return (
    (await grantSignInRights(db, user.id, { ...due, ruleId: grants.rule?.id ?? null })) ?? user
  );
}
