import { type CommonQueryMethods, sql, type ValueExpression } from "slonik";
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

/** What a rule is matched against, as SQL expressions (text, text, text[], text[]). */
export type MatchedFacts = {
  email: ValueExpression;
  domain: ValueExpression;
  githubOrgs: ValueExpression;
  githubTeams: ValueExpression;
};

/** True for a rule (aliased `r`) that lets in a person with these facts; the one place rules are matched. */
export const ruleMatches = (facts: MatchedFacts) => sql.fragment`
  ((r.kind = 'email' AND r.value = ${facts.email})
   OR (r.kind = 'domain' AND r.value = ${facts.domain})
   OR (r.kind = 'github_org' AND r.value = ANY(${facts.githubOrgs}))
   OR (r.kind = 'github_team' AND r.value = ANY(${facts.githubTeams})))`;

/** A candidate's facts as query parameters. */
export function candidateFacts(candidate: AllowlistCandidate): MatchedFacts {
  const email = candidate.email?.toLowerCase() ?? null;
  return {
    email,
    domain: email ? email.slice(email.lastIndexOf("@") + 1) : null,
    githubOrgs: sql.array(
      candidate.githubOrgs.map((o) => o.toLowerCase()),
      "text",
    ),
    githubTeams: sql.array(
      candidate.githubTeams.map((t) => t.toLowerCase()),
      "text",
    ),
  };
}

/**
 * The first rule that lets this person in, or null. One indexed probe per
 * kind. The rule is key-share locked until the transaction ends: a deletion
 * of it (which locks it first, see lockAllowlistRule) waits for the approval
 * it gives to commit and then takes it back, or goes first and is not found.
 */
export async function findMatchingAllowlistRule(
  db: CommonQueryMethods,
  candidate: AllowlistCandidate,
): Promise<AllowlistRule | null> {
  return db.maybeOne(sql.type(allowlistRuleRow)`
    SELECT ${ruleColumns} FROM allowlist_rules r
    WHERE ${ruleMatches(candidateFacts(candidate))}
    ORDER BY kind, value
    LIMIT 1
    FOR KEY SHARE`);
}

/** Whether `rule` (not stored) would match this candidate. */
export async function ruleWouldMatch(
  db: CommonQueryMethods,
  rule: { kind: AllowlistKind; value: string },
  candidate: AllowlistCandidate,
): Promise<boolean> {
  return db.oneFirst(sql.type(z.object({ matches: z.boolean() }))`
    SELECT coalesce(${ruleMatches(candidateFacts(candidate))}, false) AS matches
    FROM (VALUES (${rule.kind}, ${rule.value.toLowerCase()})) AS r(kind, value)`);
}

/** The rule, row-locked until the transaction ends (approvals it gives meanwhile wait); null when unknown. */
export async function lockAllowlistRule(
  db: CommonQueryMethods,
  id: string,
): Promise<AllowlistRule | null> {
  return db.maybeOne(sql.type(allowlistRuleRow)`
    SELECT ${ruleColumns} FROM allowlist_rules WHERE id = ${id} FOR UPDATE`);
}

export async function findAllowlistRule(
  db: CommonQueryMethods,
  id: string,
): Promise<AllowlistRule | null> {
  return db.maybeOne(sql.type(allowlistRuleRow)`
    SELECT ${ruleColumns} FROM allowlist_rules WHERE id = ${id}`);
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
