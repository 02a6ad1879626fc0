import type { Child } from "hono/jsx";
import { errorMessage } from "../../http/error-map.ts";
import type { SecondFactorsView, User } from "../../users/user-list.ts";
import { BrandMark } from "../branding.tsx";
import { HtmlDocument } from "../html-document.tsx";
import type { FormAction } from "./user-actions.ts";

// The admin console's frame and the small pieces every admin view uses.

const css = `
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2328;background:#f6f8fa}
body>header{background:#24292f;color:#fff;padding:.7rem 2rem;display:flex;gap:.6rem 2rem;align-items:center;flex-wrap:wrap}
body>header a{color:#fff}body>header nav{display:flex;gap:.4rem 1.2rem;flex-wrap:wrap}body>header nav a{text-decoration:none;opacity:.85}body>header nav a[aria-current]{opacity:1;font-weight:600;text-decoration:underline;text-underline-offset:.3em}
.brand-suffix{font-weight:400;opacity:.8}.count{display:inline-block;min-width:1.4em;padding:0 .4em;margin-left:.3em;border-radius:1em;background:#d4a72c;color:#1f2328;font-size:.8rem;text-align:center;font-weight:600}
main{max-width:1100px;margin:1.5rem auto;padding:0 1.5rem}
section{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:1rem 1.25rem;margin-bottom:1.5rem}
h1{font-size:1.4rem;margin:.2rem 0 1rem;overflow-wrap:anywhere}h2{font-size:1.1rem;margin:0 0 .8rem}
table{width:100%;border-collapse:collapse}th,td{text-align:left;padding:.45rem .5rem;border-top:1px solid #eaeef2;vertical-align:middle}
th{font-size:.8rem;text-transform:uppercase;letter-spacing:.03em;color:#57606a;border-top:none}
form.inline{display:inline}
button,a.button{display:inline-block;font:inherit;line-height:1.4;padding:.3rem .8rem;border-radius:6px;border:1px solid #afb8c1;background:#f6f8fa;color:#1f2328;cursor:pointer;text-decoration:none}
button:hover,a.button:hover{background:#eaeef2}
button.primary{background:var(--accent);border-color:var(--accent);color:var(--accent-text);font-weight:600}button.primary:hover{filter:brightness(.92)}
button.danger{background:#cf222e;color:#fff;border-color:#a40e26;font-weight:600}button.danger:hover{background:#a40e26}
a.button.warn{color:#cf222e;border-color:#cf222e;background:#fff}a.button.warn:hover{background:#ffebe9}
input,select,textarea{font:inherit;padding:.3rem .5rem;border:1px solid #8c959f;border-radius:6px;max-width:100%}
label{font-weight:600;font-size:.9rem}.field{display:flex;flex-direction:column;gap:.2rem;max-width:100%;min-width:0}
.badge{display:inline-block;padding:0 .5rem;border-radius:1rem;font-size:.8rem;border:1px solid #d0d7de;white-space:nowrap}
.active,.verified{background:#dafbe1;border-color:#4ac26b}.inactive,.deleted{background:#eaeef2}.denied,.unverified{background:#ffebe9;border-color:#cf222e}.locked{background:#ffebe9;border-color:#ff8182}
.pending{background:#fff8c5;border-color:#d4a72c}.admin{background:#ddf4ff;border-color:#54aeff}
.notice{background:#dafbe1;border:1px solid #4ac26b;padding:.6rem 1rem;border-radius:6px;margin-bottom:1rem}
.error{background:#ffebe9;border:1px solid #ff8182;padding:.6rem 1rem;border-radius:6px;margin-bottom:1rem}
.muted{color:#57606a}.row{display:flex;gap:.6rem;flex-wrap:wrap;align-items:center}.row.end{align-items:flex-end}
dl{display:grid;grid-template-columns:12rem 1fr;gap:.3rem 1rem;margin:0}dt{color:#57606a}dd{margin:0;overflow-wrap:anywhere}
.scroll{overflow-x:auto;position:relative}header .account{margin-left:auto;display:flex;gap:1rem;align-items:center;flex-wrap:wrap}
header .account button{background:none;border:1px solid rgba(255,255,255,.5);color:#fff;padding:.15rem .7rem}
details.deny summary{cursor:pointer;color:#cf222e;display:inline-block;padding:.3rem .8rem;border:1px solid #cf222e;border-radius:6px;background:#fff}
details.deny[open] summary{margin-bottom:.5rem}details.deny form{display:flex;gap:.5rem;flex-wrap:wrap;align-items:flex-end}
fieldset{border:1px solid #d0d7de;border-radius:8px;padding:.6rem 1rem 1rem;margin:1rem 0 0}legend{font-weight:600;padding:0 .3rem}
.actions{display:flex;gap:.6rem;flex-wrap:wrap;align-items:center;margin-top:.6rem}
.context{font-size:.8rem;color:#57606a;overflow-wrap:anywhere}code{overflow-wrap:anywhere}code.event{overflow-wrap:normal;white-space:nowrap}
.pager{display:flex;gap:1rem;margin-top:.8rem}
.vh{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}
@media (max-width:640px){body>header{padding:.7rem 1rem}header .account{margin-left:0}main{padding:0 .75rem}section{padding:.75rem}dl{grid-template-columns:1fr}dt{margin-top:.4rem}
table,tbody,tr,td{display:block}thead{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%)}tr{border-top:1px solid #d0d7de;padding:.5rem 0}tr:first-child{border-top:none}
td{border:none;padding:.15rem 0 .15rem 8rem;display:flow-root}td::before{content:attr(data-label);float:left;width:7.5rem;margin-left:-8rem;color:#57606a;font-size:.8rem;text-transform:uppercase;letter-spacing:.03em;padding-top:.15rem}td[data-label=Actions]::before{content:none}td[data-label=Actions]{padding:.4rem 0 0}}
`;

export type AdminScreen = "pending" | "users" | "audit" | "allowlist" | "webhooks";

/** Who is looking at the console, and how many wait for them: every admin page's header shows both. */
export type AdminFrame = { adminName: string; pendingCount: number; screen?: AdminScreen };

const screens: { screen: AdminScreen; href: string; label: string }[] = [
  { screen: "pending", href: "/admin", label: "Pending" },
  { screen: "users", href: "/admin/view/users", label: "Users" },
  { screen: "audit", href: "/admin/view/audit", label: "Audit log" },
  { screen: "allowlist", href: "/admin/view/allowlist", label: "Allowlist" },
  { screen: "webhooks", href: "/admin/view/webhooks", label: "Webhooks" },
];

function AdminHeader({ frame }: { frame: AdminFrame }) {
  return (
    <header>
      <BrandMark suffix="admin" />
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
      <div class="account">
        <span>
          Signed in as <strong>{frame.adminName}</strong>
        </span>
        <a href="/">Home</a>
        <form method="post" action="/sign-out">
          <button type="submit">Sign out</button>
        </form>
      </div>
    </header>
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
      css={css}
      header={<AdminHeader frame={props.frame} />}
    >
      <main>
        <h1>{props.title}</h1>
        {props.notice ? (
          <p class="notice" role="status">
            {props.notice}
          </p>
        ) : null}
        {props.error ? (
          <p class="error" role="alert">
            {props.error}
          </p>
        ) : null}
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

/** A user in a list: their page's link, their name under it. */
export function UserCell({
  user,
}: {
  user: Pick<User, "id" | "email" | "username" | "full_name">;
}) {
  return (
    <>
      <a href={`/admin/view/users/${user.id}`}>{userLabel(user)}</a>
      {user.full_name ? <div class="muted">{user.full_name}</div> : null}
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
    <HtmlDocument title={String(status)} css={css}>
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
