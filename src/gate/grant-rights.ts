import type { CommonQueryMethods } from "slonik";
import type { User } from "../../sql/users.ts";
import { recordAudit } from "../audit.ts";
import type { Config } from "../config/index.ts";
import type { Logger } from "../logger.ts";
import { applySignInGrants, decideSignInGrants, type SignInIdentity } from "./sign-in-grants.ts";

/**
 * What an identity earns by itself: approval by an allowlist rule,
 * administrator rights for ADMIN_EMAILS. Applied at every sign-in (a rule
 * added later takes effect then) and when an address is verified, except to
 * a right an administrator has decided on: a demoted or denied user stays so.
 * Only verified facts count (see sign-in-grants.ts); a change is audited
 * `account.auto_approved`.
 */
export async function grantRightsOfIdentity(
  db: CommonQueryMethods,
  { config, logger }: { config: Pick<Config, "access">; logger: Logger },
  user: User,
  identity: SignInIdentity,
  facts: { ip: string | null; userAgent: string | null; via: string },
): Promise<User> {
  const grants = await decideSignInGrants(db, config.access.ADMIN_EMAILS, identity, {
    ruleNeeded: !user.is_whitelisted && user.approval_decided_at === null,
  });
  const granted = await applySignInGrants(db, user, grants);
  if (granted === user) return user;
  await recordAudit(db, logger, {
    eventType: "account.auto_approved",
    result: "success",
    userId: user.id,
    ip: facts.ip,
    userAgent: facts.userAgent,
    // What this sign-in changed, not what it would have: a right an
    // administrator decided on is not granted (sign-in-grants.ts).
    context: {
      via: facts.via,
      ...(grants.rule && granted.is_whitelisted && !user.is_whitelisted
        ? { allowlist_rule: `${grants.rule.kind}:${grants.rule.value}` }
        : {}),
      ...(granted.role === "admin" && user.role !== "admin" ? { bootstrap_admin: true } : {}),
    },
  });
  return granted;
}

/**
 * What a user's own address earns once it is verified: anyone can sign up
 * with an address they do not own, and a rule on `example.com` must not let
 * in whoever typed `@example.com`.
 */
export async function grantRightsOfVerifiedEmail(
  db: CommonQueryMethods,
  deps: { config: Pick<Config, "access">; logger: Logger },
  user: User,
  facts: { ip: string | null; userAgent: string | null; via: string },
): Promise<User> {
  if (!user.email || !user.email_verified) return user;
  return grantRightsOfIdentity(db, deps, user, { email: user.email, emailVerified: true }, facts);
}
