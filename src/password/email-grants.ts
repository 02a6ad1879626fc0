import type { CommonQueryMethods } from "slonik";
import type { User } from "../../sql/users.ts";
import { recordAudit } from "../audit.ts";
import type { Config } from "../config.ts";
import { applySignInGrants, decideSignInGrants } from "../gate/sign-in-grants.ts";
import type { Logger } from "../logger.ts";

/**
 * What a password user's address earns by itself: approval by an email or
 * domain allowlist rule, administrator rights for ADMIN_EMAILS. Only once the
 * address is verified: anyone can sign up with an address they do not own,
 * and a rule on `example.com` must not let in whoever typed `@example.com`.
 * Applied at each password sign-in (a rule added later takes effect then) and
 * when the address is verified, except to a right an administrator has
 * decided on: a demoted or denied user stays so.
 */
export async function grantRightsOfVerifiedEmail(
  db: CommonQueryMethods,
  { config, logger }: { config: Config; logger: Logger },
  user: User,
  facts: { ip: string | null; userAgent: string | null; via: string },
): Promise<User> {
  if (!user.email || !user.email_verified) return user;
  const grants = await decideSignInGrants(db, config.ADMIN_EMAILS, {
    email: user.email,
    emailVerified: true,
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
