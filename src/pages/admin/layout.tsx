import type { Child } from "hono/jsx";
import { errorMessage } from "../../http/error-map.ts";
import type { SecondFactorsView, User } from "../../users/user-list.ts";
import { HtmlDocument, Messages } from "../html-document.tsx";
import type { FormAction } from "./user-actions.ts";

// The admin console's frame and the small pieces every admin view uses.

export type AdminScreen = "pending" | "users" | "audit" | "allowlist" | "webhooks" | "clients";

/** Who is looking at the console, and how many wait for them: every admin page's header shows both. */
export type AdminFrame = { adminName: string; pendingCount: number; screen?: AdminScreen };

const screens: { screen: AdminScreen; href: string; label: string }[] = [
  { screen: "pending", href: "/admin", label: "Pending" },
  { screen: "users", href: "/admin/view/users", label: "Users" },
  { screen: "audit", href: "/admin/view/audit", label: "Audit log" },
  { screen: "allowlist", href: "/admin/view/allowlist", label: "Allowlist" },
  { screen: "webhooks", href: "/admin/view/webhooks", label: "Webhooks" },
  { screen: "clients", href: "/admin/view/clients", label: "Clients" },
];

function AdminNav({ frame }: { frame: AdminFrame }) {
  return (
    <nav aria-label="Admin">
      {screens.map((s) => (
        <a href={s.href} aria-current={frame.screen === s.screen ? "page" : undefined}>
          {s.label}
          {s.screen === "pending" ? (
            <span class="count">
              {frame.pendingCount}
              <span class="vh"> waiting</span>
            </span>
          ) : null}
        </a>
      ))}
    </nav>
  );
}

export function Layout(props: {
  title: string;
  frame: AdminFrame;
  notice?: string;
  error?: string;
  /** The change was refused for want of a recent sign-in: offer the step-up, then back here. */
  reauthBack?: string;
  children: Child;
}) {
  return (
    <HtmlDocument
      title={`${props.title} · admin`}
      kind="console"
      brandSuffix="admin"
      nav={<AdminNav frame={props.frame} />}
      signedInAs={props.frame.adminName}
    >
      <main>
        <h1>{props.title}</h1>
        <Messages notice={props.notice} error={props.error} />
        {props.reauthBack ? <ReauthForm back={props.reauthBack} /> : null}
        {props.children}
      </main>
    </HtmlDocument>
  );
}

/** The step-up: the administrator's second factor, or the password of an account without one. */
function ReauthForm({ back }: { back: string }) {
  return (
    <section>
      <h2>Confirm it is you</h2>
      <p class="muted">Changes need a recent sign-in. Then submit your change again.</p>
      <form method="post" action="/admin/forms/reauth" class="row end">
        <input type="hidden" name="back" value={back} />
        <span class="field">
          <label for="reauth-code">Authenticator code</label>
          <input id="reauth-code" name="code" inputmode="numeric" autocomplete="one-time-code" />
        </span>
        <span class="field">
          <label for="reauth-password">or your password</label>
          <input
            id="reauth-password"
            name="password"
            type="password"
            autocomplete="current-password"
          />
        </span>
        <button type="submit" class="primary">
          Confirm
        </button>
      </form>
    </section>
  );
}

export const when = (d: Date | null) => (d ? d.toISOString().replace("T", " ").slice(0, 16) : "—");

/** A user as a short line: their address, else username, else (anonymised). */
export const userLabel = (u: Pick<User, "email" | "username">) =>
  u.email ?? u.username ?? "(anonymised)";

/**
 * A user's first two cells in a list: their page's link with their name
 * under it, and whether their address is confirmed.
 */
export function UserCells({
  user,
}: {
  user: Pick<User, "id" | "email" | "username" | "full_name" | "email_verified">;
}) {
  return (
    <>
      <td data-label="User">
        <a href={`/admin/view/users/${user.id}`}>{userLabel(user)}</a>
        {user.full_name ? <div class="muted">{user.full_name}</div> : null}
      </td>
      <td data-label="Email">
        <EmailBadge user={user} />
      </td>
    </>
  );
}

export function StatusBadges({ user }: { user: User }) {
  return (
    <span class="row">
      <span class={`badge ${user.status}`}>{user.status}</span>
      {user.is_whitelisted || user.status === "denied" ? null : (
        <span class="badge pending">not approved</span>
      )}
      {user.role === "admin" ? <span class="badge admin">admin</span> : null}
    </span>
  );
}

/** Approving on the strength of an address nobody confirmed is approving a stranger. */
export function EmailBadge({ user }: { user: Pick<User, "email" | "email_verified"> }) {
  if (!user.email) return <span class="badge inactive">no email</span>;
  return user.email_verified ? (
    <span class="badge verified">verified</span>
  ) : (
    <span class="badge unverified">unverified</span>
  );
}

/** A user's second factors in a few words. */
export function secondFactorsText(factors: SecondFactorsView): string {
  if (!factors.totp && factors.recovery_codes_left === 0 && factors.passkeys === 0) return "none";
  return [
    factors.totp ? "authenticator app" : null,
    factors.passkeys > 0 ? `${factors.passkeys} passkey${factors.passkeys === 1 ? "" : "s"}` : null,
    factors.totp || factors.recovery_codes_left > 0
      ? `${factors.recovery_codes_left} recovery code${factors.recovery_codes_left === 1 ? "" : "s"} left`
      : null,
  ]
    .filter(Boolean)
    .join(", ");
}

/** A one-button form posting an action about a user, returning to `back`. */
export function ActionButton(props: {
  userId: string;
  action: FormAction;
  label: string;
  back: string;
  kind?: "primary" | "danger";
}) {
  return (
    <form class="inline" method="post" action={`/admin/forms/users/${props.userId}`}>
      <input type="hidden" name="action" value={props.action} />
      <input type="hidden" name="back" value={props.back} />
      <button type="submit" class={props.kind ?? ""}>
        {props.label}
      </button>
    </form>
  );
}

/** A destructive action's button: it leads to the confirmation page, which does it. */
export function ConfirmLink(props: { href: string; label: string; warn?: boolean }) {
  return (
    <a class={props.warn ? "button warn" : "button"} href={props.href}>
      {props.label}…
    </a>
  );
}

/** Denying takes a reason, which the user is sent by mail; it unfolds under its own button. */
export function DenyForm(props: { userId: string; back: string; idSuffix: string }) {
  const id = `deny-reason-${props.idSuffix}`;
  return (
    <details class="deny">
      <summary>Deny…</summary>
      <form method="post" action={`/admin/forms/users/${props.userId}`}>
        <input type="hidden" name="action" value="deny" />
        <input type="hidden" name="back" value={props.back} />
        <span class="field">
          <label for={id}>Reason for denying (sent to the user)</label>
          <input id={id} name="reason" required maxlength={500} />
        </span>
        <button type="submit" class="danger">
          Deny
        </button>
      </form>
    </details>
  );
}

/** Pages for people who are not administrators: the brand's header, no admin navigation. */
export function RefusalPage({ status, message }: { status: number; message: string }) {
  return (
    <HtmlDocument title={String(status)} kind="console">
      <main>
        <section>
          <h1>{status === 403 ? "Administrators only" : "Not found"}</h1>
          <p>
            {message === errorMessage("admin_only")
              ? "This console is for administrators, and your account is not one."
              : message}
          </p>
          <p>
            <a href="/">Back to the start page</a>
          </p>
        </section>
      </main>
    </HtmlDocument>
  );
}

/** A table under its column headings; an empty heading is the column of a row's buttons. */
export function Table(props: { head: readonly string[]; children: Child }) {
  return (
    // On a phone each row becomes a card of labelled lines (the cells' data-label);
    // what is still too wide scrolls inside its card instead of widening the page.
    <div class="scroll">
      <table>
        <thead>
          <tr>
            {props.head.map((h) =>
              h ? (
                <th scope="col">{h}</th>
              ) : (
                <th scope="col">
                  <span class="vh">Actions</span>
                </th>
              ),
            )}
          </tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </div>
  );
}
