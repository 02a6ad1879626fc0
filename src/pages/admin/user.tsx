import type { AccessExplanation } from "../../gate/access-explanation.ts";
import type { UserRecord } from "../../users/user-record.ts";
import { AccessPanel } from "./access.tsx";
import {
  ActionButton,
  ConfirmLink,
  DenyForm,
  EmailBadge,
  StatusBadges,
  secondFactorsText,
  Table,
  when,
} from "./layout.tsx";
import { arrivalText, signInMethods } from "./pending.tsx";

// /admin/view/users/:id: one user's record and what can be done about them,
// grouped: access (approve, activate, role), denial (with its reason),
// sessions, second factors, linked providers, the audit trail, deletion.

const sessionState = (s: UserRecord["sessions"][number]) =>
  s.revoked_at
    ? `revoked (${s.revoked_reason ?? ""})`
    : s.expires_at < new Date()
      ? "expired"
      : "live";

export function UserPage(props: UserRecord & { access: AccessExplanation }) {
  const { user } = props;
  const back = `/admin/view/users/${user.id}`;
  const live = user.status !== "deleted";
  const confirm = (action: string) => `${back}/confirm/${action}`;
  const hasFactors =
    props.secondFactors.totp ||
    props.secondFactors.recovery_codes_left > 0 ||
    props.secondFactors.passkeys > 0;
  return (
    <>
      <section aria-labelledby="account-heading">
        <h2 id="account-heading">Account</h2>
        <dl>
          <dt>State</dt>
          <dd>
            <StatusBadges user={user} />
          </dd>
          <dt>Email</dt>
          <dd class="row">
            {user.email ?? "—"} <EmailBadge user={user} />
          </dd>
          <dt>Name</dt>
          <dd>{user.full_name ?? "—"}</dd>
          <dt>Username</dt>
          <dd>{user.username ?? "—"}</dd>
          <dt>Signs in with</dt>
          <dd>{signInMethods({ ...user, providers: props.accounts.map((a) => a.provider) })}</dd>
          <dt>Arrived</dt>
          <dd>{arrivalText(props.arrival)}</dd>
          <dt>Created · last sign-in</dt>
          <dd>
            {when(user.created_at)} · {when(user.last_login_at)}
          </dd>
          <dt>Id</dt>
          <dd>
            <code>{user.id}</code>
          </dd>
        </dl>
        {live ? (
          <fieldset>
            <legend>Access</legend>
            <div class="actions">
              {user.is_whitelisted ? (
                <ActionButton
                  userId={user.id}
                  action="unwhitelist"
                  label="Revoke approval"
                  back={back}
                />
              ) : (
                <ActionButton
                  userId={user.id}
                  action="approve"
                  label="Approve"
                  back={back}
                  kind="primary"
                />
              )}
              {user.status === "active" ? (
                <>
                  <ConfirmLink href={confirm("deactivate")} label="Deactivate" />
                  <ActionButton userId={user.id} action="lock" label="Lock" back={back} />
                </>
              ) : (
                <ActionButton
                  userId={user.id}
                  action="activate"
                  label={user.status === "locked" ? "Unlock" : "Activate"}
                  back={back}
                />
              )}
              {user.role === "admin" ? (
                <ActionButton
                  userId={user.id}
                  action="remove_admin"
                  label="Remove admin"
                  back={back}
                />
              ) : (
                <ActionButton userId={user.id} action="make_admin" label="Make admin" back={back} />
              )}
            </div>
          </fieldset>
        ) : null}
        {live && user.status !== "denied" ? (
          <fieldset>
            <legend>Deny access</legend>
            <p class="muted">
              A denied user cannot sign in; the reason is mailed to them. Approve them later to undo
              it.
            </p>
            <DenyForm userId={user.id} back={back} idSuffix="user" />
          </fieldset>
        ) : null}
      </section>

      <AccessPanel explanation={props.access} />

      <section aria-labelledby="sessions-heading">
        <h2 id="sessions-heading">Sessions</h2>
        {props.sessions.length === 0 ? (
          <p class="muted">No sessions.</p>
        ) : (
          <Table head={["Created", "Last seen", "Address", "Browser", "State", ""]}>
            {props.sessions.map((s) => (
              <tr>
                <td data-label="Created">{when(s.created_at)}</td>
                <td data-label="Last seen">{when(s.last_seen_at)}</td>
                <td data-label="Address">{s.ip ?? "—"}</td>
                <td data-label="Browser" class="context">
                  {s.user_agent ?? "—"}
                </td>
                <td data-label="State">{sessionState(s)}</td>
                <td data-label="Actions">
                  {sessionState(s) === "live" ? (
                    <form
                      class="inline"
                      method="post"
                      action={`/admin/forms/users/${user.id}/sessions/${s.id}/revoke`}
                    >
                      <button type="submit">Revoke</button>
                    </form>
                  ) : null}
                </td>
              </tr>
            ))}
          </Table>
        )}
        {live ? (
          <div class="actions">
            <ConfirmLink href={confirm("revoke_sessions")} label="Sign out everywhere" />
          </div>
        ) : null}
      </section>

      <section aria-labelledby="factors-heading">
        <h2 id="factors-heading">Second factors</h2>
        <p>{secondFactorsText(props.secondFactors)}</p>
        {live && hasFactors ? (
          <div class="actions">
            <ConfirmLink href={confirm("reset_mfa")} label="Reset second factors" />
          </div>
        ) : null}
      </section>

      <section aria-labelledby="providers-heading">
        <h2 id="providers-heading">Linked providers</h2>
        {props.accounts.length === 0 ? (
          <p class="muted">None.</p>
        ) : (
          <Table head={["Provider", "Their address there", "Linked"]}>
            {props.accounts.map((a) => (
              <tr>
                <td data-label="Provider">{a.provider}</td>
                <td data-label="Their address there">
                  {a.email ?? "—"}{" "}
                  {a.email ? (
                    <span class={`badge ${a.email_verified ? "verified" : "unverified"}`}>
                      {a.email_verified ? "verified" : "unverified"}
                    </span>
                  ) : null}
                </td>
                <td data-label="Linked">{when(a.created_at)}</td>
              </tr>
            ))}
          </Table>
        )}
      </section>

      <section aria-labelledby="trail-heading">
        <h2 id="trail-heading">Audit trail</h2>
        {props.events.length === 0 ? (
          <p class="muted">No events.</p>
        ) : (
          <Table head={["When (UTC)", "Event", "Result", "By", "Address"]}>
            {props.events.map((e) => (
              <tr>
                <td data-label="When (UTC)">{when(e.occurred_at)}</td>
                <td data-label="Event">
                  <code class="event">{e.event_type}</code>
                  {e.failure_reason ? <span class="muted"> · {e.failure_reason}</span> : null}
                </td>
                <td data-label="Result">{e.result}</td>
                <td data-label="By">
                  {e.actor_id && e.actor_id !== e.user_id ? (
                    <a href={`/admin/view/users/${e.actor_id}`}>admin</a>
                  ) : (
                    "self"
                  )}
                </td>
                <td data-label="Address">{e.ip ?? "—"}</td>
              </tr>
            ))}
          </Table>
        )}
        <p>
          <a href={`/admin/view/audit?user_id=${user.id}`}>All of this user's events →</a>
        </p>
      </section>

      {live ? (
        <section aria-labelledby="delete-heading">
          <h2 id="delete-heading">Delete the account</h2>
          <p class="muted">Erases their personal data; the audit trail keeps their id only.</p>
          <ConfirmLink href={confirm("delete")} label="Delete account" warn />
        </section>
      ) : null}
    </>
  );
}
