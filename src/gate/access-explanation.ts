import type { CommonQueryMethods } from "slonik";
import {
  type AllowlistKind,
  findAllowlistRule,
  findMatchingAllowlistRule,
  ruleWouldMatch,
} from "../../sql/allowlist-rules.ts";
import { findOAuthAccountOfUser } from "../../sql/oauth-accounts.ts";
import { findUserById, type User } from "../../sql/users.ts";
import type { Config } from "../config/index.ts";
import { DomainError } from "../errors.ts";
import { secondFactorRequired } from "../mfa/policy.ts";
import { secondFactorStatus } from "../mfa/second-factor-status.ts";
import { toRuleView } from "./allowlist.ts";

// "Why is this user let in?": what the gate reads (status, approval, the
// second factor MFA_REQUIRED asks for) and where the approval came from, and
// the dry run of a rule against one user. Reads only.

export type ExplainDeps = { pool: CommonQueryMethods; config: Pick<Config, "access" | "mfa"> };

/** What keeps a user out, in the order an administrator would fix it. */
export const missingReasons = [
  "deleted",
  "denied",
  "inactive",
  "locked",
  "pending_approval",
  "email_unverified",
  "second_factor",
] as const;
export type Missing = (typeof missingReasons)[number];

/** How the current approval came about. */
export const approvalSources = [
  "administrator",
  "allowlist_rule",
  "admin_emails",
  "not_recorded",
] as const;
export type ApprovalSource = (typeof approvalSources)[number];

const iso = (date: Date | null) => date?.toISOString() ?? null;

function verifiedEmailOf(user: User): string | null {
  return user.email && user.email_verified ? user.email.toLowerCase() : null;
}

/** What is known of the user that rules are matched against: the verified email and the GitHub memberships last read. */
async function candidateOf(db: CommonQueryMethods, user: User) {
  const github = await findOAuthAccountOfUser(db, user.id, "github");
  return {
    email: verifiedEmailOf(user),
    githubOrgs: github?.github_orgs ?? [],
    githubTeams: github?.github_teams ?? [],
    membershipsRead: github?.memberships_checked_at != null,
  };
}

function sourceOf(user: User, adminEmails: readonly string[]): ApprovalSource | null {
  if (!user.is_whitelisted) return null;
  if (user.approval_decided_at) return "administrator";
  if (user.approved_by_rule_id) return "allowlist_rule";
  const email = verifiedEmailOf(user);
  return email && adminEmails.includes(email) ? "admin_emails" : "not_recorded";
}

async function missingSecondFactor(deps: ExplainDeps, user: User): Promise<boolean> {
  if (!secondFactorRequired(deps.config, user)) return false;
  const factors = await secondFactorStatus(deps.pool, user.id);
  return !factors.totp.enabled && factors.passkeys === 0;
}

async function administratorOf(db: CommonQueryMethods, id: string | null) {
  const admin = id ? await findUserById(db, id) : null;
  return admin ? { id: admin.id, email: admin.email } : null;
}

/** GET /admin/users/:id/access. */
export async function explainAccess(deps: ExplainDeps, userId: string) {
  const { pool, config } = deps;
  const user = await findUserById(pool, userId);
  if (!user) throw new DomainError("user_not_found");
  const missing: Missing[] = [];
  if (user.status !== "active") missing.push(user.status);
  if (user.status !== "deleted" && !user.is_whitelisted && user.status !== "denied") {
    missing.push("pending_approval");
    if (user.email && !user.email_verified) missing.push("email_unverified");
  }
  if (user.status === "active" && (await missingSecondFactor(deps, user))) {
    missing.push("second_factor");
  }
  const rule = user.approved_by_rule_id
    ? await findAllowlistRule(pool, user.approved_by_rule_id)
    : null;
  // A pending user no administrator decided on is let in at their next
  // sign-in by a rule that matches them now.
  const waitingFor =
    !user.is_whitelisted && user.approval_decided_at === null && user.status === "active"
      ? await findMatchingAllowlistRule(pool, await candidateOf(pool, user))
      : null;
  return {
    user_id: user.id,
    let_in: missing.length === 0,
    status: user.status,
    missing,
    approval: {
      approved: user.is_whitelisted,
      source: sourceOf(user, config.access.ADMIN_EMAILS),
      approved_at: iso(user.approved_at),
      rule: rule ? toRuleView(rule) : null,
      decided_by_administrator: user.approval_decided_at
        ? {
            at: iso(user.approval_decided_at),
            administrator: await administratorOf(pool, user.approval_decided_by),
          }
        : null,
    },
    rule_at_next_sign_in: waitingFor ? toRuleView(waitingFor) : null,
  };
}
export type AccessExplanation = Awaited<ReturnType<typeof explainAccess>>;

export const dryRunReasons = [
  "matches",
  "no_match",
  "email_unverified",
  "github_memberships_unknown",
  "administrator_decided",
  "denied",
  "inactive",
  "locked",
] as const;
export type DryRunReason = (typeof dryRunReasons)[number];

/**
 * Would `rule` (stored or not) let `userId` in? Matched the way sign-in
 * matches it, against what is known of the user now (the verified email,
 * the GitHub memberships last read); a user an administrator decided on, or
 * who is not active, is not let in by any rule.
 */
export async function dryRunRule(
  deps: Pick<ExplainDeps, "pool">,
  rule: { kind: AllowlistKind; value: string },
  userId: string,
): Promise<{ would_admit: boolean; reason: DryRunReason }> {
  const user = await findUserById(deps.pool, userId);
  if (!user || user.status === "deleted") throw new DomainError("user_not_found");
  const no = (reason: DryRunReason) => ({ would_admit: false, reason });
  if (user.status !== "active") return no(user.status);
  if (user.approval_decided_at) return no("administrator_decided");
  const candidate = await candidateOf(deps.pool, user);
  if (await ruleWouldMatch(deps.pool, rule, candidate))
    return { would_admit: true, reason: "matches" };
  const byEmail = rule.kind === "email" || rule.kind === "domain";
  if (byEmail && user.email && !user.email_verified) {
    const claimed = { ...candidate, email: user.email };
    if (await ruleWouldMatch(deps.pool, rule, claimed)) return no("email_unverified");
  }
  if (!byEmail && !candidate.membershipsRead) return no("github_memberships_unknown");
  return no("no_match");
}
