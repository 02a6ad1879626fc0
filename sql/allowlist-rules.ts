import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";

export const allowlistKinds = ["email", "domain", "github_org", "github_team"] as const;
export type AllowlistKind = (typeof allowlistKinds)[number];

export const allowlistRuleRow = z.object({
  id: z.uuid(),
  kind: z.enum(allowlistKinds),
  value: z.string(),
  created_by: z.uuid().nullable(),
  created_at: z.date(),
});
export type AllowlistRule = z.infer<typeof allowlistRuleRow>;

const ruleColumns = sql.fragment`id, kind, value, created_by, created_at`;

/** Adds a rule, or returns the existing one for the same (kind, value). */
export async function upsertAllowlistRule(
  db: CommonQueryMethods,
  rule: { kind: AllowlistKind; value: string; createdBy: string | null },
): Promise<AllowlistRule> {
  return db.one(sql.type(allowlistRuleRow)`
    WITH inserted AS (
      INSERT INTO allowlist_rules (kind, value, created_by)
      VALUES (${rule.kind}, ${rule.value.toLowerCase()}, ${rule.createdBy})
      ON CONFLICT (kind, value) DO NOTHING
      RETURNING ${ruleColumns}
    )
    SELECT ${ruleColumns} FROM inserted
    UNION ALL
    SELECT ${ruleColumns} FROM allowlist_rules WHERE kind = ${rule.kind} AND value = ${rule.value.toLowerCase()}
    LIMIT 1`);
}

export async function listAllowlistRules(
  db: CommonQueryMethods,
): Promise<readonly AllowlistRule[]> {
  return db.any(sql.type(allowlistRuleRow)`
    SELECT ${ruleColumns} FROM allowlist_rules ORDER BY kind, value`);
}

export async function deleteAllowlistRule(db: CommonQueryMethods, id: string): Promise<boolean> {
  const result = await db.query(sql.unsafe`DELETE FROM allowlist_rules WHERE id = ${id}`);
  return result.rowCount === 1;
}

/** Adds a rule; null when the same (kind, value) already exists. */
export async function insertAllowlistRule(
  db: CommonQueryMethods,
  rule: { kind: AllowlistKind; value: string; createdBy: string | null },
): Promise<AllowlistRule | null> {
  return db.maybeOne(sql.type(allowlistRuleRow)`
    INSERT INTO allowlist_rules (kind, value, created_by)
    VALUES (${rule.kind}, ${rule.value.toLowerCase()}, ${rule.createdBy})
    ON CONFLICT (kind, value) DO NOTHING
    RETURNING ${ruleColumns}`);
}

/** Deletes a rule and returns what it was (for the audit trail); null when unknown. */
export async function removeAllowlistRule(
  db: CommonQueryMethods,
  id: string,
): Promise<AllowlistRule | null> {
  return db.maybeOne(sql.type(allowlistRuleRow)`
    DELETE FROM allowlist_rules WHERE id = ${id} RETURNING ${ruleColumns}`);
}

export type AllowlistCandidate = {
  /** A verified email only; null when the person has none. */
  email: string | null;
  githubOrgs: readonly string[];
  /** `org/team-slug` */
  githubTeams: readonly string[];
};

/** The first rule that lets this person in, or null. One indexed probe per kind. */
export async function findMatchingAllowlistRule(
  db: CommonQueryMethods,
  candidate: AllowlistCandidate,
): Promise<AllowlistRule | null> {
  const email = candidate.email?.toLowerCase() ?? null;
  const domain = email ? email.slice(email.lastIndexOf("@") + 1) : null;
  return db.maybeOne(sql.type(allowlistRuleRow)`
    SELECT ${ruleColumns} FROM allowlist_rules
    WHERE (kind = 'email' AND value = ${email})
       OR (kind = 'domain' AND value = ${domain})
       OR (kind = 'github_org'
           AND value = ANY(${sql.array(
             candidate.githubOrgs.map((o) => o.toLowerCase()),
             "text",
           )}))
       OR (kind = 'github_team'
           AND value = ANY(${sql.array(
             candidate.githubTeams.map((t) => t.toLowerCase()),
             "text",
           )}))
    ORDER BY kind, value
    LIMIT 1`);
}

/** Which GitHub rule kinds exist: sign-in asks GitHub for orgs/teams (and read:org) only then. */
export async function githubAllowlistRuleKinds(
  db: CommonQueryMethods,
): Promise<{ orgs: boolean; teams: boolean }> {
  return db.one(sql.type(z.object({ orgs: z.boolean(), teams: z.boolean() }))`
    SELECT EXISTS (SELECT 1 FROM allowlist_rules WHERE kind = 'github_org') AS orgs,
           EXISTS (SELECT 1 FROM allowlist_rules WHERE kind = 'github_team') AS teams`);
}

export const ruleReachRow = z.object({ id: z.uuid(), waiting: z.number().int() });

/**
 * Per email or domain rule, how many users waiting for approval it would
 * let in at their next sign-in: active, not approved, no administrator's
 * decision on their approval, and a verified address the rule matches (as
 * findMatchingAllowlistRule matches it). GitHub rules are left out: only a
 * sign-in reads a person's organisations and teams.
 */
export async function countWaitingUsersByRule(
  db: CommonQueryMethods,
): Promise<readonly z.infer<typeof ruleReachRow>[]> {
  return db.any(sql.type(ruleReachRow)`
    SELECT r.id, count(u.id)::int AS waiting
    FROM allowlist_rules r
    LEFT JOIN users u
      ON u.status = 'active' AND NOT u.is_whitelisted AND u.approval_decided_at IS NULL
     AND u.email_verified
     AND ((r.kind = 'email' AND lower(u.email) = r.value)
       OR (r.kind = 'domain' AND split_part(lower(u.email), '@', 2) = r.value))
    WHERE r.kind IN ('email', 'domain')
    GROUP BY r.id`);
}
