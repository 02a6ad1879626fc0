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

export async function decideSignInGrants(
  db: CommonQueryMethods,
  adminEmails: readonly string[],
  identity: SignInIdentity,
): Promise<SignInGrants> {
  const verifiedEmail = identity.email && identity.emailVerified ? identity.email : null;
  const bootstrapAdmin =
    verifiedEmail !== null && adminEmails.includes(verifiedEmail.toLowerCase());
  const rule = await findMatchingAllowlistRule(db, {
    email: verifiedEmail,
    githubOrgs: identity.githubOrgs ?? [],
    githubTeams: identity.githubTeams ?? [],
  });
  return { whitelisted: bootstrapAdmin || rule !== null, bootstrapAdmin, rule };
}

/** Gives `user` what `grants` allow (one write, only when it changes something); the user as it now is. */
export async function applySignInGrants(
  db: CommonQueryMethods,
  user: User,
  grants: SignInGrants,
): Promise<User> {
  const changes =
    (grants.whitelisted && !user.is_whitelisted) ||
    (grants.bootstrapAdmin && user.role !== "admin");
  if (!changes) return user;
  return (
    (await grantSignInRights(db, user.id, {
      whitelist: grants.whitelisted,
      admin: grants.bootstrapAdmin,
    })) ?? user
  );
}
