import type { UserListQuery } from "../../http/admin-request.ts";
import {
  type SecondFactorsView,
  type User,
  userRoles,
  userStatuses,
} from "../../users/user-list.ts";
import { StatusBadges, secondFactorsText, Table, UserCells, when } from "./layout.tsx";

// /admin/view/users: every user, newest first, searchable and filtered like
// GET /admin/users, a page at a time (its keyset cursor).

/** The filters of `query` as URL parameters (no cursor): the next page's link keeps them. */
export function userFilterParams(query: UserListQuery): URLSearchParams {
  const params = new URLSearchParams();
  if (query.q) params.set("q", query.q);
  if (query.status) params.set("status", query.status);
  if (query.role) params.set("role", query.role);
  if (query.whitelisted !== undefined) params.set("whitelisted", String(query.whitelisted));
  if (query.mfa) params.set("mfa", query.mfa);
  return params;
}

function Select(props: {
  id: string;
  label: string;
  value: string | undefined;
  options: readonly (readonly [string, string])[];
}) {
  return (
    <span class="field">
      <label for={props.id}>{props.label}</label>
      <select id={props.id} name={props.id}>
        {props.options.map(([value, text]) => (
          <option value={value} selected={(props.value ?? "") === value}>
            {text}
          </option>
        ))}
      </select>
    </span>
  );
}

export function UserFilters({ query }: { query: UserListQuery }) {
  return (
    <form method="get" action="/admin/view/users" class="row end">
      <span class="field">
        <label for="q">Search</label>
        <input
          type="search"
          id="q"
          name="q"
          value={query.q ?? ""}
          placeholder="email, username or name"
        />
      </span>
      <Select
        id="status"
        label="Status"
        value={query.status}
        options={[["", "any"], ...userStatuses.map((s) => [s, s] as const)]}
      />
      <Select
        id="role"
        label="Role"
        value={query.role}
        options={[["", "any"], ...userRoles.map((r) => [r, r] as const)]}
      />
      <Select
        id="whitelisted"
        label="Approved"
        value={query.whitelisted === undefined ? undefined : String(query.whitelisted)}
        options={[
          ["", "either"],
          ["true", "approved"],
          ["false", "not approved"],
        ]}
      />
      <Select
        id="mfa"
        label="Second factor"
        value={query.mfa}
        options={[
          ["", "either"],
          ["none", "none"],
          ["enrolled", "enrolled"],
        ]}
      />
      <button type="submit" class="primary">
        Filter
      </button>
      <a href="/admin/view/users">Clear</a>
    </form>
  );
}

export function UsersList(props: {
  users: readonly (User & { second_factors: SecondFactorsView })[];
  query: UserListQuery;
  nextHref: string | null;
  firstHref: string | null;
}) {
  return (
    <>
      <section aria-label="Filters">
        <UserFilters query={props.query} />
      </section>
      <section aria-label="Users">
        {props.users.length === 0 ? (
          <p class="muted">No user matches.</p>
        ) : (
          <Table head={["User", "Email", "State", "Second factors", "Created", "Last sign-in"]}>
            {props.users.map((u) => (
              <tr>
                <UserCells user={u} />
                <td data-label="State">
                  <StatusBadges user={u} />
                </td>
                <td data-label="Second factors">{secondFactorsText(u.second_factors)}</td>
                <td data-label="Created">{when(u.created_at)}</td>
                <td data-label="Last sign-in">{when(u.last_login_at)}</td>
              </tr>
            ))}
          </Table>
        )}
        <Pager nextHref={props.nextHref} firstHref={props.firstHref} />
      </section>
    </>
  );
}

/** The links between pages of a keyset-paged list: back to the first, on to the next. */
export function Pager(props: { nextHref: string | null; firstHref: string | null }) {
  if (!props.nextHref && !props.firstHref) return null;
  return (
    <nav class="pager" aria-label="Pages">
      {props.firstHref ? <a href={props.firstHref}>← First page</a> : null}
      {props.nextHref ? <a href={props.nextHref}>Next page →</a> : null}
    </nav>
  );
}
