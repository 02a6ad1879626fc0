import { type AllowlistRule, allowlistKinds } from "../../gate/allowlist.ts";
import { type DryRunFields, DryRunForm, type DryRunOutcome } from "./access.tsx";
import { ConfirmLink, Table, when } from "./layout.tsx";

// /admin/view/allowlist: the rules that approve users at sign-in.

const kindHelp: Record<(typeof allowlistKinds)[number], string> = {
  email: "one address, e.g. alice@example.com",
  domain: "every verified address at a domain, e.g. example.com",
  github_org: "members of a GitHub organisation, e.g. acme",
  github_team: "members of a GitHub team, e.g. acme/platform",
};

/** Who the rule would let in among those waiting; GitHub memberships are read only at sign-in. */
function reach(rule: AllowlistRule, waiting: Map<string, number>): string {
  const count = waiting.get(rule.id);
  if (count === undefined) return "known at their GitHub sign-in";
  if (count === 0) return "nobody waiting";
  return `${count} waiting ${count === 1 ? "user" : "users"}, at their next sign-in`;
}

export function AllowlistRules(props: {
  rules: readonly AllowlistRule[];
  waiting: Map<string, number>;
  dryRun?: { fields: DryRunFields; outcome?: DryRunOutcome };
}) {
  const { rules } = props;
  return (
    <>
      <section aria-labelledby="rules-heading">
        <h2 id="rules-heading">Rules</h2>
        <p class="muted">
          A user matching a rule is approved automatically when they sign in. Deleting a rule signs
          out and un-approves the users only it lets in (its confirmation says how many); to narrow
          a rule, add the narrower one first.
        </p>
        {rules.length === 0 ? (
          <p class="muted">No rules: every newcomer waits for an administrator.</p>
        ) : (
          <Table head={["Kind", "Value", "Lets in", "Added", ""]}>
            {rules.map((r) => (
              <tr>
                <td data-label="Kind">{r.kind}</td>
                <td data-label="Value">
                  <code>{r.value}</code>
                </td>
                <td data-label="Lets in">{reach(r, props.waiting)}</td>
                <td data-label="Added">{when(r.created_at)}</td>
                <td data-label="Actions">
                  <ConfirmLink href={`/admin/view/allowlist/${r.id}/delete`} label="Delete" warn />
                </td>
              </tr>
            ))}
          </Table>
        )}
      </section>
      <section aria-labelledby="add-heading">
        <h2 id="add-heading">Add a rule</h2>
        <form method="post" action="/admin/forms/allowlist" class="row end">
          <span class="field">
            <label for="rule-kind">Kind</label>
            <select id="rule-kind" name="kind">
              {allowlistKinds.map((k) => (
                <option value={k}>
                  {k}: {kindHelp[k]}
                </option>
              ))}
            </select>
          </span>
          <span class="field">
            <label for="rule-value">Value</label>
            <input id="rule-value" name="value" required maxlength={320} />
          </span>
          <button type="submit" class="primary">
            Add rule
          </button>
        </form>
      </section>
      <DryRunForm {...(props.dryRun ?? { fields: {} })} />
    </>
  );
}
