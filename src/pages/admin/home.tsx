import type { AllowlistRule } from "../../gate/allowlist.ts";
import type { UserListQuery } from "../../http/admin-request.ts";
import { type SecondFactorsView, type User, userStatuses } from "../../users/user-list.ts";
import { ActionButton, DenyForm, StatusBadges, secondFactorsText, Table, when } from "./layout.tsx";

// /admin: who is waiting for approval, every user (searchable), the allowlist.

/** The oldest of those waiting (`pending`), under the count of all of them. */
export function PendingSection({ pending, count }: { pending: readonly User[]; count: number }) {
  return (
    <section id="pending">
      <h2>
        Waiting for approval <span class="badge pending">{count}</span>
      </h2>
      {count > pending.length ? (
        <p class="muted">The {pending.length} who have waited longest:</p>
      ) : null}
      {pending.length === 0 ? (
        <p class="muted">Nobody is waiting.</p>
      ) : (
        <Table head={["User", "Signed up", ""]}>
          {pending.map((u) => (
            <tr>
              <td>
                <a href={`/admin/view/users/${u.id}`}>{u.email ?? u.username ?? u.id}</a>{" "}
                {/* Approving on the strength of an address nobody confirmed is approving a stranger. */}
                {u.email && !u.email_verified ? (
                  <span class="badge pending">unverified</span>
                ) : null}
                {u.full_name ? <span class="muted"> · {u.full_name}</span> : null}
              </td>
              <td>{when(u.created_at)}</td>
              <td class="row">
                <ActionButton
                  userId={u.id}
                  action="approve"
                  label="Approve"
                  back="/admin"
                  kind="primary"
                />
                <DenyForm userId={u.id} back="/admin" />
              </td>
            </tr>
          ))}
        </Table>
      )}
    </section>
  );
}

export function UsersSection(props: {
  users: readonly (User & { second_factors: SecondFactorsView })[];
  query: UserListQuery;
  nextHref: string | null;
}) {
  const { query } = props;
  return (
    <section id="users">
      <h2>Users</h2>
      <form method="get" action="/admin" class="row">
        <input type="search" name="q" value={query.q ?? ""} placeholder="email, username or name" />
        <select name="status">
          <option value="">any status</option>
          {userStatuses.map((s) => (
            <option value={s} selected={query.status === s}>
              {s}
            </option>
          ))}
        </select>
        <select name="whitelisted">
          <option value="">approved or not</option>
          <option value="true" selected={query.whitelisted === true}>
            approved
          </option>
          <option value="false" selected={query.whitelisted === false}>
            not approved
          </option>
        </select>
        <select name="mfa">
          <option value="">second factor or not</option>
          <option value="none" selected={query.mfa === "none"}>
            no second factor
          </option>
          <option value="enrolled" selected={query.mfa === "enrolled"}>
            with a second factor
          </option>
        </select>
        <button type="submit">Search</button>
      </form>
      <Table head={["User", "State", "Second factors", "Created", "Last sign-in"]}>
        {props.users.map((u) => (
          <tr>
            <td>
              <a href={`/admin/view/users/${u.id}`}>{u.email ?? u.username ?? "(anonymised)"}</a>
              {u.full_name ? <span class="muted"> · {u.full_name}</span> : null}
            </td>
            <td>
              <StatusBadges user={u} />
            </td>
            <td>{secondFactorsText(u.second_factors)}</td>
            <td>{when(u.created_at)}</td>
            <td>{when(u.last_login_at)}</td>
          </tr>
        ))}
      </Table>
      {props.users.length === 0 ? <p class="muted">No user matches.</p> : null}
      {props.nextHref ? (
        <p>
          <a href={props.nextHref}>Next page →</a>
        </p>
      ) : null}
    </section>
  );
}

export function AllowlistSection({ rules }: { rules: readonly AllowlistRule[] }) {
  return (
    <section id="allowlist">
      <h2>Allowlist rules</h2>
      <p class="muted">A user matching a rule is approved automatically at sign-in.</p>
      <Table head={["Kind", "Value", "Added", ""]}>
        {rules.map((r) => (
          <tr>
            <td>{r.kind}</td>
            <td>
              <code>{r.value}</code>
            </td>
            <td>{when(r.created_at)}</td>
            <td>
              <form class="inline" method="post" action={`/admin/forms/allowlist/${r.id}/delete`}>
                <button type="submit" class="danger">
                  Delete
                </button>
              </form>
            </td>
          </tr>
        ))}
      </Table>
      <form method="post" action="/admin/forms/allowlist" class="row" style="margin-top:.8rem">
        <select name="kind">
          <option value="email">email</option>
          <option value="domain">domain</option>
          <option value="github_org">github_org</option>
          <option value="github_team">github_team</option>
        </select>
        <input name="value" required placeholder="alice@example.com, example.com, org, org/team" />
        <button type="submit" class="primary">
          Add rule
        </button>
      </form>
    </section>
  );
}
