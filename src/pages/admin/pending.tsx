import type { PendingUser } from "../../users/user-list.ts";
import { ActionButton, DenyForm, Table, UserCells, when } from "./layout.tsx";

// /admin: the approval queue, oldest first, with what an administrator
// weighs before approving: whether the address is confirmed, how the person
// signs in, and how they arrived.

/** How the user can sign in: a password, and the providers linked. */
export function signInMethods(u: { password_hash: string | null; providers: readonly string[] }) {
  return [u.password_hash ? "password" : null, ...u.providers].filter(Boolean).join(", ") || "none";
}

/** How the account came to be, from the audit event that created it. */
export function arrivalText(u: Pick<PendingUser, "arrival_event" | "arrival_context">): string {
  const context = u.arrival_context ?? {};
  const extras = [
    typeof context.allowlist_rule === "string" ? `matched rule ${context.allowlist_rule}` : null,
    context.bootstrap_admin === true ? "listed in ADMIN_EMAILS (bootstrap)" : null,
  ].filter(Boolean);
  const base =
    u.arrival_event === "signup"
      ? "signed up with a password"
      : u.arrival_event === "user.created"
        ? `first signed in with ${typeof context.provider === "string" ? context.provider : "a provider"}`
        : "not recorded";
  return [base, ...extras].join("; ");
}

export function PendingQueue({
  pending,
  count,
}: {
  pending: readonly PendingUser[];
  count: number;
}) {
  return (
    <section id="pending" aria-labelledby="pending-heading">
      <h2 id="pending-heading">
        {count === 1 ? "1 person is" : `${count} people are`} waiting for approval
      </h2>
      {count > pending.length ? (
        <p class="muted">The {pending.length} who have waited longest:</p>
      ) : null}
      {pending.length === 0 ? (
        <p class="muted">Nobody is waiting.</p>
      ) : (
        <Table head={["User", "Email", "Signs in with", "Arrived", "Waiting since", ""]}>
          {pending.map((u) => (
            <tr>
              <UserCells user={u} />
              <td data-label="Signs in with">{signInMethods(u)}</td>
              <td data-label="Arrived">{arrivalText(u)}</td>
              <td data-label="Waiting since">{when(u.created_at)}</td>
              <td data-label="Actions">
                <div class="actions">
                  <ActionButton
                    userId={u.id}
                    action="approve"
                    label="Approve"
                    back="/admin"
                    kind="primary"
                  />
                  <DenyForm userId={u.id} back="/admin" idSuffix={u.id} />
                </div>
              </td>
            </tr>
          ))}
        </Table>
      )}
    </section>
  );
}
