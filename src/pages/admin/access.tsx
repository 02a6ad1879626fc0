import type { AccessExplanation, DryRunReason, Missing } from "../../gate/access-explanation.ts";
import { allowlistKinds } from "../../gate/allowlist.ts";
import { when } from "./layout.tsx";

// Why a user is or is not let in (the user page's panel) and the allowlist
// screen's dry run: both read from src/gate/access-explanation.ts, the
// domain functions behind GET /admin/users/:id/access and POST
// /admin/allowlist/dry-run, so the console and the API never disagree.

const missingText: Record<Missing, string> = {
  deleted: "The account is deleted.",
  denied: "An administrator denied them access.",
  inactive: "The account is deactivated.",
  locked: "The account is locked.",
  pending_approval:
    "Not approved: an administrator has to approve them, or an allowlist rule has to match them at a sign-in.",
  email_unverified:
    "Their email address is not verified: allowlist rules match verified addresses only.",
  second_factor:
    "MFA_REQUIRED asks them for a second factor and they have none: after their password they can only enrol one.",
};

const at = (iso: string | null) => (iso ? ` on ${when(new Date(iso))}` : "");

const ruleText = (rule: { kind: string; value: string }) => `${rule.kind} ${rule.value}`;

function Administrator(props: { administrator: { id: string; email: string | null } | null }) {
  const { administrator } = props;
  if (!administrator) return <>the command line</>;
  return (
    <a href={`/admin/view/users/${administrator.id}`}>
      {administrator.email ?? "an administrator"}
    </a>
  );
}

/** How the current approval came about, in one sentence. */
function ApprovalLine({ approval }: { approval: AccessExplanation["approval"] }) {
  const decided = approval.decided_by_administrator;
  switch (approval.source) {
    case "administrator":
      return (
        <>
          Approved by <Administrator administrator={decided?.administrator ?? null} />
          {at(decided?.at ?? approval.approved_at)}.
        </>
      );
    case "allowlist_rule":
      return approval.rule ? (
        <>
          Approved by allowlist rule <code>{ruleText(approval.rule)}</code>
          {at(approval.approved_at)}.
        </>
      ) : (
        <>Approved by an allowlist rule{at(approval.approved_at)}.</>
      );
    case "admin_emails":
      return <>Approved because their verified address is listed in ADMIN_EMAILS.</>;
    case "not_recorded":
      return <>Approved{at(approval.approved_at)}; how was not recorded at the time.</>;
    default:
      return decided ? (
        <>
          Approval revoked by <Administrator administrator={decided.administrator} />
          {at(decided.at)}: no allowlist rule lets them in until an administrator approves them
          again.
        </>
      ) : (
        <>Nobody has approved them yet.</>
      );
  }
}

export function AccessPanel({ explanation }: { explanation: AccessExplanation }) {
  const { let_in, missing, approval, rule_at_next_sign_in: next } = explanation;
  return (
    <section aria-labelledby="access-heading" id="access">
      <h2 id="access-heading">
        {let_in ? "Why this user is let in" : "Why this user is not let in"}
      </h2>
      <p>
        <span class={`badge ${let_in ? "verified" : "unverified"}`}>
          {let_in ? "let in" : "kept out"}
        </span>{" "}
        <ApprovalLine approval={approval} />
      </p>
      {missing.length > 0 ? (
        <>
          <p>What keeps them out:</p>
          <ul class="missing">
            {missing.map((m) => (
              <li data-missing={m}>{missingText[m]}</li>
            ))}
          </ul>
        </>
      ) : null}
      {next ? (
        <p>
          Allowlist rule <code>{ruleText(next)}</code> lets them in at their next sign-in.
        </p>
      ) : null}
    </section>
  );
}

const dryRunText: Record<DryRunReason, string> = {
  matches: "Yes: the rule matches them; it would let them in at their next sign-in.",
  no_match: "No: the rule does not match them.",
  email_unverified:
    "No: the rule matches their address, but it is not verified and rules match verified addresses only.",
  github_memberships_unknown:
    "No, as far as is known: their GitHub memberships have not been read (they are read at a GitHub sign-in).",
  administrator_decided:
    "No: an administrator decided on their approval by hand, and rules never override that.",
  denied: "No: they are denied.",
  inactive: "No: their account is deactivated.",
  locked: "No: their account is locked.",
};

export type DryRunFields = { kind?: string; value?: string; user?: string };

export type DryRunOutcome =
  | { kind: "answer"; wouldAdmit: boolean; reason: DryRunReason; userId: string; user: string }
  | { kind: "refused"; message: string };

/** The allowlist screen's "would this rule let in user X?" form, and its answer after a post. */
export function DryRunForm(props: { fields: DryRunFields; outcome?: DryRunOutcome }) {
  const { fields, outcome } = props;
  const kind = allowlistKinds.some((k) => k === fields.kind) ? fields.kind : "domain";
  return (
    <section aria-labelledby="dry-run-heading" id="dry-run">
      <h2 id="dry-run-heading">Try a rule</h2>
      <p class="muted">
        Would a rule, added or not, let a given user in? Nothing is changed; it is matched the way
        sign-in matches it, against what is known of the user now.
      </p>
      <form method="post" action="/admin/forms/allowlist/dry-run" class="row end">
        <span class="field">
          <label for="dry-run-kind">Kind</label>
          <select id="dry-run-kind" name="kind">
            {allowlistKinds.map((k) => (
              <option value={k} selected={k === kind}>
                {k}
              </option>
            ))}
          </select>
        </span>
        <span class="field">
          <label for="dry-run-value">Value</label>
          <input
            id="dry-run-value"
            name="value"
            required
            maxlength={320}
            value={fields.value ?? ""}
          />
        </span>
        <span class="field">
          <label for="dry-run-user">User (email address or id)</label>
          <input id="dry-run-user" name="user" required maxlength={320} value={fields.user ?? ""} />
        </span>
        <button type="submit">Try it</button>
      </form>
      {outcome ? (
        <output for="dry-run-kind dry-run-value dry-run-user" class="dry-run-answer">
          {outcome.kind === "refused" ? (
            <p role="alert">{outcome.message}</p>
          ) : (
            <p data-reason={outcome.reason}>
              <span class={`badge ${outcome.wouldAdmit ? "verified" : "unverified"}`}>
                {outcome.wouldAdmit ? "would let in" : "would not let in"}
              </span>{" "}
              <a href={`/admin/view/users/${outcome.userId}`}>{outcome.user}</a>:{" "}
              {dryRunText[outcome.reason]}
            </p>
          )}
        </output>
      ) : null}
    </section>
  );
}
