import type { AuditEvent } from "../../audit-trail.ts";
import { AccountPage } from "../card-page.tsx";
import { deviceName } from "../device-names.ts";
import { eventName } from "../security-event-names.ts";
import { when } from "../utc-time.ts";
import { accountPath } from "./path.ts";

// The person's own security events: the account center's latest few, and
// every one a page at a time.

/** The person's own audit events, newest first, one per line. */
export function EventList(props: { events: readonly AuditEvent[] }) {
  if (props.events.length === 0) return <p class="muted">No events yet.</p>;
  return (
    <ul class="rows">
      {props.events.map((e) => (
        <li>
          <div>
            <strong>{eventName(e.event_type, e.context)}</strong>{" "}
            {e.result === "failure" ? <span class="badge warn">failed</span> : null}
            <br />
            <span class="muted">
              {when(e.occurred_at)}
              {e.ip ? `, from ${e.ip}` : ""}
              {e.user_agent ? `, ${deviceName(e.user_agent, "browser")}` : ""}
            </span>
          </div>
        </li>
      ))}
    </ul>
  );
}

export function EventsSection(props: { events: readonly AuditEvent[] }) {
  return (
    <section aria-labelledby="events-heading">
      <h2 id="events-heading">Recent security events</h2>
      <EventList events={props.events} />
      <p>
        <a href={`${accountPath}/events`}>All security events</a>
      </p>
    </section>
  );
}

/** Every security event of the person, a page at a time. */
export const accountEventsPage = (props: {
  name: string;
  events: readonly AuditEvent[];
  next: string | null;
}) =>
  AccountPage({
    title: "Your security events",
    wide: true,
    signedInAs: props.name,
    nav: <a href={accountPath}>Back to your account</a>,
    children: (
      <>
        <p class="muted">
          Sign-ins, failed attempts and changes to this account, newest first, with the address they
          came from.
        </p>
        <EventList events={props.events} />
        {props.next ? (
          <p>
            <a href={`${accountPath}/events?cursor=${encodeURIComponent(props.next)}`}>
              Older events
            </a>
          </p>
        ) : null}
      </>
    ),
  });
