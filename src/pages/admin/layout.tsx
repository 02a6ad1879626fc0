import type { Child } from "hono/jsx";
import type { SecondFactorsView, User } from "../../users/user-list.ts";
import { HtmlDocument } from "../html-document.tsx";
import type { FormAction } from "./user-actions.ts";

// The admin page's frame and the small pieces every admin view uses.

const css = `
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2328;background:#f6f8fa}
header{background:#24292f;color:#fff;padding:.8rem 2rem;display:flex;gap:2rem;align-items:center}
header a{color:#fff;text-decoration:none;font-weight:600}header nav{display:flex;gap:1.2rem}header nav a{font-weight:400;opacity:.85}
main{max-width:1100px;margin:1.5rem auto;padding:0 1.5rem}
section{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:1rem 1.25rem;margin-bottom:1.5rem}
h1{font-size:1.4rem;margin:.2rem 0 1rem}h2{font-size:1.1rem;margin:0 0 .8rem}
table{width:100%;border-collapse:collapse}th,td{text-align:left;padding:.45rem .5rem;border-top:1px solid #eaeef2;vertical-align:middle}
th{font-size:.8rem;text-transform:uppercase;letter-spacing:.03em;color:#57606a;border-top:none}
form.inline{display:inline}button{font:inherit;padding:.25rem .7rem;border-radius:6px;border:1px solid #d0d7de;background:#f6f8fa;cursor:pointer}
button.primary{background:#1f883d;border-color:#1a7f37;color:#fff}button.danger{background:#fff;color:#cf222e;border-color:#cf222e}
input,select{font:inherit;padding:.3rem .5rem;border:1px solid #d0d7de;border-radius:6px}
.badge{display:inline-block;padding:0 .5rem;border-radius:1rem;font-size:.8rem;border:1px solid #d0d7de}
.active{background:#dafbe1;border-color:#4ac26b}.inactive,.deleted{background:#eaeef2}.denied{background:#ffebe9;border-color:#cf222e}.locked{background:#ffebe9;border-color:#ff8182}
.pending{background:#fff8c5;border-color:#d4a72c}.admin{background:#ddf4ff;border-color:#54aeff}
.notice{background:#dafbe1;border:1px solid #4ac26b;padding:.6rem 1rem;border-radius:6px;margin-bottom:1rem}
.error{background:#ffebe9;border:1px solid #ff8182;padding:.6rem 1rem;border-radius:6px;margin-bottom:1rem}
.muted{color:#57606a}.row{display:flex;gap:.5rem;flex-wrap:wrap;align-items:center}dl{display:grid;grid-template-columns:12rem 1fr;gap:.3rem 1rem;margin:0}dt{color:#57606a}dd{margin:0}
.scroll{overflow-x:auto}header .account{margin-left:auto;display:flex;gap:1rem;align-items:center}header .account a{font-weight:400;opacity:.85}header .account button{background:none;border:none;color:#fff;opacity:.85;padding:0}
@media (max-width:640px){header{padding:.8rem 1rem;flex-wrap:wrap;gap:.8rem}main{padding:0 .75rem}section{padding:.75rem}dl{grid-template-columns:1fr}}
`;

export function Layout(props: {
  title: string;
  notice?: string;
  error?: string;
  /** The change was refused for want of a recent sign-in: offer the step-up, then back here. */
  reauthBack?: string;
  children: Child;
}) {
  return (
    <HtmlDocument title={`${props.title} · Gatehouse admin`} css={css}>
      <header>
        <a href="/admin">Gatehouse admin</a>
        <nav>
          <a href="/admin#pending">Pending</a>
          <a href="/admin#users">Users</a>
          <a href="/admin#allowlist">Allowlist</a>
        </nav>
        <div class="account">
          <a href="/">Home</a>
          <form method="post" action="/sign-out">
            <button type="submit">Sign out</button>
          </form>
        </div>
      </header>
      <main>
        {props.notice ? <p class="notice">{props.notice}</p> : null}
        {props.error ? <p class="error">{props.error}</p> : null}
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
      <form method="post" action="/admin/forms/reauth" class="row">
        <input type="hidden" name="back" value={back} />
        <input
          name="code"
          inputmode="numeric"
          autocomplete="one-time-code"
          placeholder="authenticator code"
        />
        <input
          name="password"
          type="password"
          autocomplete="current-password"
          placeholder="or password"
        />
        <button type="submit" class="primary">
          Confirm
        </button>
      </form>
    </section>
  );
}

export const when = (d: Date | null) => (d ? d.toISOString().replace("T", " ").slice(0, 16) : "—");

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

/** Denying takes a reason, which the user is sent by mail. */
export function DenyForm(props: { userId: string; back: string }) {
  return (
    <form class="inline row" method="post" action={`/admin/forms/users/${props.userId}`}>
      <input type="hidden" name="action" value="deny" />
      <input type="hidden" name="back" value={props.back} />
      <input name="reason" required maxlength={500} placeholder="reason (sent to the user)" />
      <button type="submit" class="danger">
        Deny
      </button>
    </form>
  );
}

export function ErrorPage({ status, message }: { status: number; message: string }) {
  return (
    <Layout title={String(status)}>
      <section>
        <h1>{status === 403 ? "Administrators only" : "Not found"}</h1>
        <p>{message}</p>
      </section>
    </Layout>
  );
}

/** A table under its column headings; an empty heading is the column of a row's buttons. */
export function Table(props: { head: readonly string[]; children: Child }) {
  return (
    // Wide tables scroll inside their card on a phone instead of widening the page.
    <div class="scroll">
      <table>
        <thead>
          <tr>{props.head.map((h) => (h ? <th>{h}</th> : <th />))}</tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </div>
  );
}
