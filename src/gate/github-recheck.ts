import type { DatabasePool } from "slonik";
import { releaseAdvisoryLock, tryAdvisoryLock } from "../../sql/advisory-locks.ts";
import {
  findAllowlistRule,
  findMatchingAllowlistRule,
  githubAllowlistRuleKinds,
} from "../../sql/allowlist-rules.ts";
import { recordGitHubMemberships, recordGitHubTokenRevoked } from "../../sql/oauth-accounts.ts";
import {
  type GitHubRecheck,
  listDueGitHubRechecks,
  moveRuleApprovals,
} from "../../sql/user-approvals.ts";
import { lockUsableAdmins, lockUserById } from "../../sql/user-changes.ts";
import { findUserById } from "../../sql/users.ts";
import type { Config } from "../config/index.ts";
import type { TokenCipher } from "../keys/token-encryption.ts";
import type { Logger } from "../logger.ts";
import { type MembershipAnswer, readGitHubMemberships } from "../providers/github-account.ts";
import { openAccountTokens } from "../providers/provider-tokens.ts";
import type { MembershipNeeds } from "../providers/sign-in-providers.ts";
import { isUsableAdmin } from "../users/administration.ts";
import { withdrawApproval } from "./withdraw-approval.ts";

// A GitHub organisation or team rule let a user in at sign-in; membership
// can end later. Every GITHUB_RECHECK_INTERVAL each such user's memberships
// are read again with their stored (encrypted) token; a user no rule lets in
// any more (membership ended, or GitHub refused the token: 401) is pending
// again and signed out, audited `user.unapproved`. Only a definite answer
// takes access away: GitHub unreachable, slow or failing leaves everyone as
// they are, and they are asked about again at the next run. Every replica
// schedules the job; an advisory lock makes one of them work at a time, and
// each user is re-checked at most once per interval (memberships_checked_at).

export const githubRecheckLockName = "gatehouse.github_recheck";

export type RecheckDeps = {
  pool: DatabasePool;
  logger: Logger;
  tokenCipher: () => Promise<TokenCipher>;
  config: Pick<Config, "access">;
};

export type RecheckReport =
  | { ran: false }
  | { ran: true; checked: number; unapproved: number; unanswered: number };

/** Nobody acts: the schedule does (audit rows name no actor). */
const scheduler = { actorId: null, ip: null, userAgent: null };

/**
 * One run over the users that are due (at most `batch`); skipped while
 * another replica runs. `stop` ends it early (shutdown): the users not yet
 * asked about stay due.
 */
export async function recheckGitHubMembers(
  deps: RecheckDeps,
  { batch = 200, stop }: { batch?: number; stop?: AbortSignal } = {},
): Promise<RecheckReport> {
  return deps.pool.connect(async (lockConnection) => {
    if (!(await tryAdvisoryLock(lockConnection, githubRecheckLockName))) return { ran: false };
    try {
      const report = { ran: true as const, checked: 0, unapproved: 0, unanswered: 0 };
      const due = await listDueGitHubRechecks(
        deps.pool,
        deps.config.access.GITHUB_RECHECK_INTERVAL,
        batch,
      );
      if (due.length === 0) return report;
      const cipher = await deps.tokenCipher();
      const kinds = await githubAllowlistRuleKinds(deps.pool);
      const needs: MembershipNeeds = { githubOrgs: kinds.orgs, githubTeams: kinds.teams };
      for (const account of due) {
        if (stop?.aborted) break;
        const answer = await askAbout(deps, cipher, account, needs, stop);
        if (answer.kind === "no_answer") {
          report.unanswered++;
          deps.logger.warn(
            { user_id: account.user_id, detail: answer.detail },
            "GitHub membership re-check got no answer; access unchanged until the next run",
          );
          continue;
        }
        report.checked++;
        if (await settle(deps, account, answer)) report.unapproved++;
      }
      return report;
    } finally {
      await releaseAdvisoryLock(lockConnection, githubRecheckLockName);
    }
  });
}

async function askAbout(
  deps: RecheckDeps,
  cipher: TokenCipher,
  account: GitHubRecheck,
  needs: MembershipNeeds,
  stop: AbortSignal | undefined,
): Promise<MembershipAnswer> {
  const { accessToken } = await openAccountTokens(
    cipher,
    { id: account.account_id, access_token: account.access_token, refresh_token: null },
    deps.logger,
  );
  // No token to ask with (none stored, or under a key no longer configured)
  // is not GitHub's answer: nobody loses access over it.
  if (!accessToken) return { kind: "no_answer", detail: "no usable stored token" };
  return readGitHubMemberships(accessToken, needs, stop);
}

/** Applies a definite answer; true when the user lost access. */
async function settle(
  { pool, logger, config }: RecheckDeps,
  account: GitHubRecheck,
  answer: Exclude<MembershipAnswer, { kind: "no_answer" }>,
): Promise<boolean> {
  return pool.transaction(async (tx) => {
    const seen = await findUserById(tx, account.user_id);
    if (!seen) return false;
    const members = answer.kind === "members" ? answer : null;
    const verifiedEmail = seen.email && seen.email_verified ? seen.email.toLowerCase() : null;
    // Rules before the user's row, the order a rule's deletion locks them in.
    const match = await findMatchingAllowlistRule(tx, {
      email: verifiedEmail,
      githubOrgs: members?.orgs ?? [],
      githubTeams: members?.teams ?? [],
    });
    const admins = isUsableAdmin(seen) ? await lockUsableAdmins(tx) : [];
    const user = await lockUserById(tx, account.user_id);
    if (members) await recordGitHubMemberships(tx, account.account_id, members);
    else await recordGitHubTokenRevoked(tx, account.account_id);
    if (!user?.is_whitelisted || user.approval_decided_at || !user.approved_by_rule_id) {
      return false;
    }
    const rule = await findAllowlistRule(tx, user.approved_by_rule_id);
    if (!rule || match?.id === rule.id) return false;
    if (match || (verifiedEmail && config.access.ADMIN_EMAILS.includes(verifiedEmail))) {
      await moveRuleApprovals(tx, [user.id], match?.id ?? null);
      return false;
    }
    if (admins.length === 1 && admins[0] === user.id) {
      logger.error(
        { user_id: user.id, rule_id: rule.id },
        "the last administrator no longer matches the GitHub rule that let them in; kept (approve someone else)",
      );
      return false;
    }
    return withdrawApproval(tx, logger, scheduler, user.id, {
      reason: members ? "github_membership_ended" : "github_token_revoked",
      rule,
    });
  });
}

/**
 * Every replica looks for due users this often (at most every 5 minutes, so
 * a user whose re-check got no answer is asked again soon). A run never
 * overlaps the previous one of the same process.
 */
export function startGitHubRecheckSchedule(deps: RecheckDeps): { stop: () => Promise<void> } {
  let running: Promise<unknown> | null = null;
  // Shutdown must not wait for GitHub: a run in progress stops asking.
  const stopping = new AbortController();
  const tick = () => {
    if (running) return;
    running = recheckGitHubMembers(deps, { stop: stopping.signal })
      .then((report) => {
        if (report.ran && report.checked + report.unanswered > 0) {
          deps.logger.info({ github_recheck: report }, "GitHub memberships re-checked");
        }
      })
      .catch((error: unknown) => deps.logger.error({ err: error }, "GitHub re-check failed"))
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(tick, Math.min(deps.config.access.GITHUB_RECHECK_INTERVAL, 300_000));
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      stopping.abort();
      await running;
    },
  };
}
