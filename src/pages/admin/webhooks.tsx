import type { WebhookDelivery, WebhookEndpoint } from "../../webhooks/endpoints.ts";
import { webhookEventTypes } from "../../webhooks/events.ts";
import { ConfirmLink, Table, when } from "./layout.tsx";

// /admin/view/webhooks: the endpoints told of events, each with its latest
// deliveries, a test event, and removal; and the form that adds one.

function Deliveries({ deliveries }: { deliveries: readonly WebhookDelivery[] }) {
  if (deliveries.length === 0) return <p class="muted">Nothing sent yet.</p>;
  return (
    <Table head={["Event", "Status", "Attempts", "Last answer", "Last attempt"]}>
      {deliveries.map((d) => (
        <tr>
          <td data-label="Event">
            <code class="event">{d.event_type}</code>
          </td>
          <td data-label="Status">{d.status}</td>
          <td data-label="Attempts">{d.attempts}</td>
          <td data-label="Last answer">
            {d.last_response_code ??
              (d.last_error ? <span class="context">{d.last_error}</span> : "—")}
          </td>
          <td data-label="Last attempt">{when(d.last_attempt_at)}</td>
        </tr>
      ))}
    </Table>
  );
}

export function WebhookEndpoints(props: {
  endpoints: readonly WebhookEndpoint[];
  deliveries: ReadonlyMap<string, readonly WebhookDelivery[]>;
}) {
  return (
    <>
      {props.endpoints.length === 0 ? (
        <section>
          <p class="muted">No endpoints: no app is told of sign-ups, approvals or sign-outs.</p>
        </section>
      ) : (
        props.endpoints.map((endpoint) => (
          <section aria-labelledby={`endpoint-${endpoint.id}`}>
            <h2 id={`endpoint-${endpoint.id}`}>
              <code>{endpoint.url}</code>
            </h2>
            <p class="context">
              {endpoint.events.join(", ")} · added {when(endpoint.created_at)}
            </p>
            <div class="actions">
              <form method="post" action={`/admin/forms/webhooks/${endpoint.id}/test`}>
                <button type="submit">Send a test event</button>
              </form>
              <ConfirmLink
                href={`/admin/view/webhooks/${endpoint.id}/remove`}
                label="Remove"
                warn
              />
            </div>
            <h3>Latest deliveries</h3>
            <Deliveries deliveries={props.deliveries.get(endpoint.id) ?? []} />
          </section>
        ))
      )}
      <section aria-labelledby="add-webhook-heading">
        <h2 id="add-webhook-heading">Add an endpoint</h2>
        <p class="muted">
          Deliveries are signed (Standard Webhooks); the secret to check them is shown once, after
          adding.
        </p>
        <form method="post" action="/admin/forms/webhooks">
          <span class="field">
            <label for="webhook-url">URL</label>
            <input
              id="webhook-url"
              name="url"
              type="url"
              required
              maxlength={2048}
              placeholder="https://hooks.example.com/gatehouse"
            />
          </span>
          <fieldset>
            <legend>Events</legend>
            {webhookEventTypes.map((type) => (
              <label>
                <input type="checkbox" name="events" value={type} />{" "}
                <code class="event">{type}</code>
              </label>
            ))}
          </fieldset>
          <button type="submit" class="primary">
            Add endpoint
          </button>
        </form>
      </section>
    </>
  );
}

/** The one time an endpoint's secret is shown. */
export function WebhookAdded(props: { endpoint: WebhookEndpoint; secret: string }) {
  return (
    <section aria-labelledby="added-heading">
      <h2 id="added-heading">Endpoint added</h2>
      <p>
        <code>{props.endpoint.url}</code> will be sent {props.endpoint.events.join(", ")}.
      </p>
      <p>
        Its signing secret, shown only now: give it to the receiving app, which checks each delivery
        with it (for example with the <code>standardwebhooks</code> package).
      </p>
      <p>
        <code>{props.secret}</code>
      </p>
      <p>
        <a class="button" href="/admin/view/webhooks">
          Back to webhooks
        </a>
      </p>
    </section>
  );
}
