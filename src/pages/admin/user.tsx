import type { UserRecord } from "../../users/user-record.ts";
import { ActionButton, DenyForm, StatusBadges, secondFactorsText, Table, when } from "./layout.tsx";

// /admin/view/users/:id: one user's record, the actions on them, their
// sessions and audit trail.

export function UserPage(props: UserRecord) {
  const { user } = props;
  const back = `/admin/view/users/${user.id}`;
  const live = user.status !== "deleted";
  return (
    <>
      <h1>{user.email ?? user.username ?? "(anonymised user)"}</h1>
      <section>
        <dl>
          <dt>State</dt>
          <dd>
            <StatusBadges user={user} />
          </dd>
          <dt>Id</dt>
          <dd>
            <code>{user.id}</code>
          </dd>
          <dt>Name</dt>
          <dd>{user.full_name ?? "—"}</dd>
          <dt>Username</dt>
          <dd>{user.username ?? "—"}</dd>
          <dt>Email verified</dt>
          <dd>{user.email_verified ? "yes" : "no"}</dd>
          <dt>Sign-in methods</dt>
          <dd>
            {[user.password_hash ? "password" : null, ...props.accounts.map((a) => a.provider)]
              .filter(Boolean)
              .join(", ") || "—"}
          </dd>
          <dt>Second factors</dt>
          <dd>{secondFactorsText(props.secondFactors)}</dd>
          <dt>Created · last sign-in</dt>
          <dd>
            {when(user.created_at)} · {when(user.last_login_at)}
          </dd>
        </dl>
        {live ? (
          <p class="row" style="margin-top:1rem">
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
                <ActionButton userId={user.id} action="deactivate" label="Deactivate" back={back} />
                <ActionButton userId={user.id} action="lock" label="Lock" back={back} />
              </>
            ) : (
              <ActionButton
                userId={user.id}
                action="activate"
                label="Activate / unlock"
                back={back}
              />
            )}
            {user.status === "denied" ? null : <DenyForm userId={user.id} back={back} />}
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
            <ActionButton
              userId={user.id}
              action="revoke_sessions"
              label="Sign out everywhere"
              back={back}
            />
            {props.secondFactors.totp || props.secondFactors.recovery_codes_left > 0 ? (
              <ActionButton
                userId={user.id}
                action="reset_mfa"
                label="Reset second factors"
                back={back}
              />
            ) : null}
            <ActionButton
              userId={user.id}
              action="delete"
              label="Delete account"
              back="/admin"
              kind="danger"
            />
          </p>
        ) : null}
      </section>
      <section>
        <h2>Sessions</h2>
        {props.sessions.length === 0 ? (
          <p class="muted">No sessions.</p>
        ) : (
          <Table head={["Created", "Last seen", "Address", "Agent", "State"]}>
            {props.sessions.map((s) => (
              <tr>
                <td>{when(s.created_at)}</td>
                <td>{when(s.last_seen_at)}</td>
                <td>{s.ip ?? "—"}</td>
                <td class="muted">{s.user_agent ?? "—"}</td>
                <td>
                  {s.revoked_at
                    ? `revoked (${s.revoked_reason ?? ""})`
                    : s.expires_at < new Date()
                      ? "expired"
                      : "live"}
                </td>
              </tr>
            ))}
          </Table>
        )}
      </section>
      <section>
        <h2>Audit trail</h2>
        {props.events.length === 0 ? (
          <p class="muted">No events.</p>
        ) : (
          <Table head={["When", "Event", "Result", "By", "Address"]}>
            {props.events.map((e) => (
              <tr>
                <td>{when(e.occurred_at)}</td>
                <td>
                  <code>{e.event_type}</code>
                  {e.failure_reason ? <span class="muted"> · {e.failure_reason}</span> : null}
                </td>
                <td>{e.result}</td>
                <td>
                  {e.actor_id && e.actor_id !== e.user_id ? (
                    <a href={`/admin/view/users/${e.actor_id}`}>admin</a>
                  ) : (
                    "self"
                  )}
                </td>
                <td>{e.ip ?? "—"}</td>
              </tr>
            ))}
          </Table>
        )}
      </section>
    </>
  );
}
