import type { AuditEvent } from "../../audit-trail.ts";
import { auditResults } from "../../audit-trail.ts";
import type { UserLabel } from "../../users/user-list.ts";
import { Table, when } from "./layout.tsx";
import { Pager } from "./users.tsx";

// /admin/view/audit: the audit trail of everyone, newest first, with the
// filters of GET /admin/audit, a page at a time.

/** The filter form's fields as typed: the page reads them back into the form. */
export type AuditFilterFields = {
  user_id?: string;
  actor_id?: string;
  event_type?: string;
  result?: string;
  since?: string;
  until?: string;
};

export const auditFilterNames = [
  "user_id",
  "actor_id",
  "event_type",
  "result",
  "since",
  "until",
] as const;

function Field(props: {
  name: keyof AuditFilterFields;
  label: string;
  value: string | undefined;
  type?: string;
  placeholder?: string;
}) {
  return (
    <span class="field">
      <label for={`audit-${props.name}`}>{props.label}</label>
      <input
        id={`audit-${props.name}`}
        name={props.name}
        type={props.type ?? "text"}
        value={props.value ?? ""}
        placeholder={props.placeholder}
      />
    </span>
  );
}

function AuditFilters({ fields }: { fields: AuditFilterFields }) {
  return (
    <form method="get" action="/admin/view/audit" class="row end">
      <Field name="user_id" label="About user (email or id)" value={fields.user_id} />
      <Field name="actor_id" label="By (email or id)" value={fields.actor_id} />
      <Field
        name="event_type"
        label="Event type"
        value={fields.event_type}
        placeholder="login.failed"
      />
      <span class="field">
        <label for="audit-result">Result</label>
        <select id="audit-result" name="result">
          <option value="">either</option>
          {auditResults.map((r) => (
            <option value={r} selected={fields.result === r}>
              {r}
            </option>
          ))}
        </select>
      </span>
      <Field name="since" label="From (UTC)" type="datetime-local" value={fields.since} />
      <Field name="until" label="Until (UTC)" type="datetime-local" value={fields.until} />
      <button type="submit" class="primary">
        Filter
      </button>
      <a href="/admin/view/audit">Clear</a>
    </form>
  );
}

function Who({ id, labels }: { id: string | null; labels: Map<string, UserLabel> }) {
  if (!id) return <span class="muted">—</span>;
  const label = labels.get(id);
  return (
    <a href={`/admin/view/users/${id}`}>
      {label ? (label.email ?? label.username ?? "(anonymised)") : `${id.slice(0, 8)}…`}
    </a>
  );
}

/** An event's context as one short line (it holds ids and flags, never secrets). */
const contextLine = (context: Record<string, unknown>) => {
  const text = Object.entries(context)
    .map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(", ");
  return text.length > 160 ? `${text.slice(0, 159)}…` : text;
};

export function AuditTable(props: {
  events: readonly AuditEvent[];
  labels: Map<string, UserLabel>;
}) {
  return (
    <Table head={["When (UTC)", "Event", "Result", "About", "By", "Address", "Details"]}>
      {props.events.map((e) => (
        <tr>
          <td data-label="When (UTC)">{when(e.occurred_at)}</td>
          <td data-label="Event">
            <code class="event">{e.event_type}</code>
          </td>
          <td data-label="Result">
            <span class={`badge ${e.result === "success" ? "active" : "denied"}`}>{e.result}</span>
          </td>
          <td data-label="About">
            <Who id={e.user_id} labels={props.labels} />
          </td>
          <td data-label="By">
            {e.actor_id && e.actor_id !== e.user_id ? (
              <Who id={e.actor_id} labels={props.labels} />
            ) : (
              <span class="muted">{e.actor_id ? "self" : "—"}</span>
            )}
          </td>
          <td data-label="Address">{e.ip ?? "—"}</td>
          <td data-label="Details" class="context">
            {e.failure_reason ? <strong>{e.failure_reason} </strong> : null}
            {contextLine(e.context)}
          </td>
        </tr>
      ))}
    </Table>
  );
}

export function AuditLog(props: {
  fields: AuditFilterFields;
  events: readonly AuditEvent[];
  labels: Map<string, UserLabel>;
  nextHref: string | null;
  firstHref: string | null;
}) {
  return (
    <>
      <section aria-label="Filters">
        <AuditFilters fields={props.fields} />
      </section>
      <section aria-label="Events">
        {props.events.length === 0 ? (
          <p class="muted">No event matches.</p>
        ) : (
          <AuditTable events={props.events} labels={props.labels} />
        )}
        <Pager nextHref={props.nextHref} firstHref={props.firstHref} />
      </section>
    </>
  );
}
