import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";
import { ruleMatches } from "./allowlist-rules.ts";
import { type User, userColumns, userRow } from "./users.ts";

// Approvals that allowlist rules gave (users.approved_by_rule_id), found and
// taken back when the rule goes or stops matching. An administrator's
// decision (approval_decided_at) is never touched here.

/** A user a rule approved, and whether something else would let them in. */
export const ruleApprovalRow = z.object({
  user_id: z.uuid(),
  /** Another rule matching what is known of the user (verified email, GitHub memberships last read). */
  other_rule_id: z.uuid().nullable(),
  /** The verified address is in ADMIN_EMAILS, which approves it by itself. */
  admin_email: z.boolean(),
});
export type RuleApproval = z.infer<typeof ruleApprovalRow>;

/**
 * Every live user `ruleId` approved, with the first other rule that also
 * matches them. `lock`: row-lock those users until the transaction ends.
 */
export async function listRuleApprovals(
  db: CommonQueryMethods,
  ruleId: string,
  adminEmails: readonly string[],
  { lock }: { lock: boolean },
): Promise<readonly RuleApproval[]> {
  const verifiedEmail = sql.fragment`CASE WHEN u.email_verified THEN lower(u.email::text) END`;
  return db.any(sql.type(ruleApprovalRow)`
    SELECT u.id AS user_id,
      (SELECT r.id FROM allowlist_rules r
       WHERE r.id <> ${ruleId} AND ${ruleMatches({
         email: verifiedEmail,
         domain: sql.fragment`substring(${verifiedEmail} FROM '@([^@]*)$')`,
         githubOrgs: sql.fragment`coalesce(a.github_orgs, '{}')`,
         githubTeams: sql.fragment`coalesce(a.github_teams, '{}')`,
       })}
       ORDER BY r.kind, r.value LIMIT 1) AS other_rule_id,
      coalesce(${verifiedEmail} = ANY(${sql.array([...adminEmails], "text")}), false) AS admin_email
    FROM users u
    LEFT JOIN oauth_accounts a ON a.user_id = u.id AND a.provider = 'github'
    WHERE u.approved_by_rule_id = ${ruleId} AND u.is_whitelisted
      AND u.approval_decided_at IS NULL AND u.status <> 'deleted'
    ORDER BY u.id
    ${lock ? sql.fragment`FOR UPDATE OF u` : sql.fragment``}`);
}

/** Records that `ruleId` is now what lets these users in. */
export async function moveRuleApprovals(
  db: CommonQueryMethods,
  userIds: readonly string[],
  ruleId: string | null,
): Promise<void> {
  if (userIds.length === 0) return;
  await db.query(sql.unsafe`
    UPDATE users SET approved_by_rule_id = ${ruleId}
    WHERE id = ANY(${sql.array([...userIds], "uuid")})`);
}

/**
 * Takes back an approval a rule gave: pending again, bearer tokens issued so
 * far stop. Null when an administrator decided meanwhile, or it is gone.
 */
export async function withdrawRuleApproval(
  db: CommonQueryMethods,
  userId: string,
): Promise<User | null> {
  return db.maybeOne(sql.type(userRow)`
    UPDATE users SET is_whitelisted = false, tokens_valid_after = now()
    WHERE id = ${userId} AND is_whitelisted AND approval_decided_at IS NULL
    RETURNING ${userColumns}`);
}

export const gitHubRecheckRow = z.object({
  user_id: z.uuid(),
  account_id: z.uuid(),
  access_token: z.string().nullable(),
  refresh_token: z.string().nullable(),
});
export type GitHubRecheck = z.infer<typeof gitHubRecheckRow>;

/**
 * Users a GitHub organisation or team rule let in whose memberships were
 * last read longer than `intervalMs` ago (or never), oldest first.
 */
export async function listDueGitHubRechecks(
  db: CommonQueryMethods,
  intervalMs: number,
  limit: number,
): Promise<readonly GitHubRecheck[]> {
  return db.any(sql.type(gitHubRecheckRow)`
    SELECT u.id AS user_id, a.id AS account_id, a.access_token, a.refresh_token
    FROM users u
    JOIN allowlist_rules r ON r.id = u.approved_by_rule_id
    JOIN oauth_accounts a ON a.user_id = u.id AND a.provider = 'github'
    WHERE r.kind IN ('github_org', 'github_team') AND u.is_whitelisted
      AND u.approval_decided_at IS NULL AND u.status <> 'deleted'
      AND (a.memberships_checked_at IS NULL
           OR a.memberships_checked_at <= now() - make_interval(secs => ${intervalMs / 1000}))
    ORDER BY a.memberships_checked_at NULLS FIRST, u.id
    LIMIT ${limit}`);
}
