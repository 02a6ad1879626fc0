import type { Child } from "hono/jsx";
import type { Problem } from "../http/problem.ts";
import { HtmlDocument } from "./html-document.tsx";
import { PasswordToggle, passwordToggleScript } from "./password-toggle.tsx";

// The browser side of password accounts: plain HTML forms that post to the
// JSON routes' own URLs (a form post gets HTML back), so every step works
// without JavaScript. Mail links land on these pages; nothing is consumed by
// opening a link (mail scanners prefetch links), only by submitting its form.

const css = `
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2328;background:#f6f8fa}
main{width:min(26rem,100% - 2rem);margin:2rem auto;padding:1.5rem 1.25rem;background:#fff;border:1px solid #d0d7de;border-radius:10px}main.wide{width:min(48rem,100% - 2rem)}
header.who{width:min(48rem,100% - 2rem);margin:1rem auto 0;display:flex;gap:.8rem;align-items:center;justify-content:flex-end;flex-wrap:wrap;font-size:.9rem}header.who form{margin:0}header.who button{margin:0;padding:.2rem .7rem;background:#f6f8fa;color:#1f2328;border-color:#d0d7de}
a.next{display:inline-block;margin-top:1rem;padding:.45rem 1rem;border-radius:6px;background:var(--accent);color:var(--accent-text);text-decoration:none;font-weight:600}
.pending{background:#fff8c5;border:1px solid #d4a72c;padding:.6rem 1rem;border-radius:6px}
.badge{display:inline-block;font-size:.75rem;font-weight:600;padding:0 .45rem;border-radius:1rem;border:1px solid}.badge.ok{color:#1a7f37;border-color:#4ac26b;background:#dafbe1}.badge.warn{color:#9a6700;border-color:#d4a72c;background:#fff8c5}
ul.rows{list-style:none;padding:0;margin:.6rem 0}ul.rows li{display:flex;justify-content:space-between;align-items:center;gap:.8rem;padding:.55rem 0;border-bottom:1px solid #eaeef2}ul.rows li>div{min-width:0;overflow-wrap:anywhere}ul.rows form button{margin:0;white-space:nowrap}.link-buttons{display:flex;flex-wrap:wrap;gap:.5rem;margin-top:.6rem}form>button.secondary{margin:.5rem 0 0}
.password-box{display:flex;gap:.4rem;align-items:stretch}.password-box input{flex:1;min-width:0}.password-box button{margin:0;padding:.2rem .6rem;background:#f6f8fa;color:#1f2328;border-color:#d0d7de;font-size:.85rem}
h1{font-size:1.35rem;margin:0 0 1rem}h2{font-size:1.1rem;margin:1.6rem 0 .4rem}label{display:block;margin:.8rem 0 .2rem;font-weight:600}
input[type=email],input[type=password],input[type=text],select{width:100%;font:inherit;padding:.45rem .6rem;border:1px solid #d0d7de;border-radius:6px}
button{margin-top:1.1rem;font:inherit;padding:.45rem 1rem;border-radius:6px;border:1px solid var(--accent);background:var(--accent);color:var(--accent-text);cursor:pointer}
.notice{background:#dafbe1;border:1px solid #4ac26b;padding:.6rem 1rem;border-radius:6px}
.error{background:#ffebe9;border:1px solid #ff8182;padding:.6rem 1rem;border-radius:6px}
.muted{color:#57606a;font-size:.9rem}[hidden]{display:none!important}code{overflow-wrap:anywhere}.qr svg{display:block;width:12rem;max-width:100%;height:auto}
button.danger{background:#fff;color:#cf222e;border-color:#cf222e}summary{cursor:pointer;margin-top:.8rem}section{border-top:1px solid #d0d7de;margin-top:1.4rem}section>h2{margin-top:1rem}button.secondary{margin:0 0 0 .4rem;padding:.15rem .6rem;font-size:.85rem;background:#f6f8fa;border-color:#d0d7de;color:#1f2328}li{margin:.3rem 0}nav{margin-top:1.2rem;display:flex;gap:1rem;flex-wrap:wrap;font-size:.9rem}
`;

/**
 * Whether the page's content has a password field's show/hide button: only
 * such pages load its script (a rendered JSX node is its HTML as a string).
 */
const hasPasswordToggle = (children: Child) =>
  [children].flat().some((child) => String(child ?? "").includes("data-password-toggle"));

/** A page's notice (what worked) and error (what was refused), each in fixed words. */
export function Messages(props: {
  notice?: string | null | undefined;
  error?: string | null | undefined;
}) {
  return (
    <>
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
    </>
  );
}

/** Who is signed in, shown above a signed-in page with the way out. */
export function SignedInHeader(props: { name: string }) {
  return (
    <header class="who">
      <span>
        Signed in as <strong>{props.name}</strong>
      </span>
      <a href="/account">Your account</a>
      <form method="post" action="/sign-out">
        <button type="submit">Sign out</button>
      </form>
    </header>
  );
}

export function AccountPage(props: {
  title: string;
  notice?: string | undefined;
  problem?: Problem | undefined;
  /** A refusal that came back through a redirect, in words (no problem to show). */
  error?: string | undefined;
  /** The page's scripts (only pages with a passkey ceremony have any). */
  scripts?: readonly string[];
  /** The links at the bottom; a signed-in page gives its own (the sign-in ones by default). */
  nav?: Child;
  /** A signed-in page: the name shown in its header, beside "Sign out". */
  signedInAs?: string | undefined;
  /** An end page's one obvious way on ("Sign in", "Continue"). */
  next?: { href: string; label: string } | undefined;
  /** A page of tables and several sections: a wider card. */
  wide?: boolean;
  children?: Child;
}) {
  const problem = props.problem;
  return (
    <HtmlDocument
      title={props.title}
      css={css}
      scripts={[
        ...(props.scripts ?? []),
        ...(hasPasswordToggle(props.children) ? [passwordToggleScript] : []),
      ]}
    >
      {props.signedInAs !== undefined ? <SignedInHeader name={props.signedInAs} /> : null}
      <main class={props.wide ? "wide" : undefined}>
        <h1>{props.title}</h1>
        <Messages notice={props.notice} error={props.error} />
        {problem ? (
          <div class="error" role="alert">
            {problem.extra.errors?.length ? (
              <ul>
                {problem.extra.errors.map((e) => (
                  <li>{e.detail}</li>
                ))}
              </ul>
            ) : (
              <p>{problem.detail ?? problem.title}</p>
            )}
          </div>
        ) : null}
        {props.children}
        {props.next ? (
          <p>
            <a class="next" href={props.next.href}>
              {props.next.label}
            </a>
          </p>
        ) : null}
        <nav>
          {props.nav ??
            (props.signedInAs !== undefined ? (
              <a href="/account">Your account</a>
            ) : (
              <>
                <a href="/">Sign in</a>
                <a href="/auth/signup">Create an account</a>
                <a href="/auth/password/forgot">Forgot your password?</a>
              </>
            ))}
        </nav>
      </main>
    </HtmlDocument>
  );
}

export function EmailField(props: {
  autocomplete: "email" | "username";
  value?: string | undefined;
}) {
  return (
    <>
      <label for="email">Email</label>
      <input
        id="email"
        name="email"
        type="email"
        required
        autocomplete={props.autocomplete}
        value={props.value}
      />
    </>
  );
}

/**
 * A password field: the current password, or, given the policy's minimum
 * length, one being chosen (at most the longest the hashing accepts).
 */
export function PasswordField(props: {
  id: string;
  name?: string;
  label: string;
  minLength?: number;
}) {
  const choosing = props.minLength !== undefined;
  return (
    <>
      <label for={props.id}>{props.label}</label>
      <div class="password-box">
        <input
          id={props.id}
          name={props.name ?? props.id}
          type="password"
          required
          minlength={props.minLength}
          maxlength={choosing ? 128 : undefined}
          autocomplete={choosing ? "new-password" : "current-password"}
        />
        <PasswordToggle controls={props.id} />
      </div>
    </>
  );
}

/**
 * The six digits an authenticator app shows (a space in the middle is fine);
 * a page with several forms gives each its own id, and one where a recovery
 * code may stand in leaves it optional.
 */
export const AuthenticatorCodeField = (
  props: { id?: string; label?: string; optional?: boolean; autofocus?: boolean } = {},
) => (
  <>
    <label for={props.id ?? "code"}>{props.label ?? "Code from your authenticator app"}</label>
    <input
      id={props.id ?? "code"}
      name="code"
      type="text"
      inputmode="numeric"
      pattern="[0-9 ]{6,7}"
      autocomplete="one-time-code"
      required={!props.optional}
      autofocus={props.autofocus ?? true}
    />
  </>
);

/** Email and password sign-in; also shown on the sign-in page, below the providers. */
export function LoginForm(props: { redirectTo: string; email?: string | undefined }) {
  return (
    <form method="post" action="/auth/login">
      {props.redirectTo === "/" ? null : (
        <input type="hidden" name="redirect_to" value={props.redirectTo} />
      )}
      <EmailField autocomplete="username" value={props.email} />
      <PasswordField id="password" label="Password" />
      <button type="submit" class="primary">
        Sign in
      </button>
    </form>
  );
}

export function SignupForm(props: {
  email?: string;
  fullName?: string;
  askConsent: boolean;
  minLength: number;
}) {
  return (
    <form method="post" action="/auth/signup">
      <EmailField autocomplete="email" value={props.email ?? ""} />
      <label for="full_name">Name (optional)</label>
      <input
        id="full_name"
        name="full_name"
        type="text"
        autocomplete="name"
        value={props.fullName ?? ""}
      />
      <PasswordField id="password" name="password" label="Password" minLength={props.minLength} />
      <p class="muted">
        At least {props.minLength} characters; a long phrase is best. Common passwords are refused.
      </p>
      {props.askConsent ? (
        <label>
          <input type="checkbox" name="consent" value="true" required /> I accept the terms of use
        </label>
      ) : null}
      <button type="submit">Create account</button>
    </form>
  );
}

export function EmailForm(props: { action: string; button: string; email?: string }) {
  return (
    <form method="post" action={props.action}>
      <EmailField autocomplete="email" value={props.email ?? ""} />
      <button type="submit">{props.button}</button>
    </form>
  );
}

export function VerifyForm(props: { token: string }) {
  return (
    <form method="post" action="/auth/email/verify">
      <input type="hidden" name="token" value={props.token} />
      <button type="submit">Confirm my email address</button>
    </form>
  );
}

/**
 * What the confirmation link offers: confirming, in a session of the account
 * (else the sign-in form first, coming back here), or "this was not me".
 */
export function ConfirmChoices(props: { token: string; signedIn: boolean; minLength: number }) {
  const here = `/auth/email/verify?token=${props.token}`;
  return (
    <>
      {props.signedIn ? (
        <VerifyForm token={props.token} />
      ) : (
        <>
          <p>Sign in with the password you chose for this account, then confirm.</p>
          <LoginForm redirectTo={here} />
        </>
      )}
      <h2>This was not me</h2>
      <NotMeForm token={props.token} minLength={props.minLength} />
    </>
  );
}

/**
 * For a mailbox holder who did not create the account: a password of their
 * own takes it over (the link's token proves the mailbox).
 */
export function NotMeForm(props: { token: string; minLength: number }) {
  return (
    <form method="post" action="/auth/email/not-me">
      <input type="hidden" name="token" value={props.token} />
      <p class="muted">
        Did someone else create this account with your address? Do not confirm. Choose a password of
        your own instead: the account becomes yours, the other person's password stops working and
        every session of the account ends.
      </p>
      <PasswordField
        id="not_me_password"
        name="password"
        label="Your new password"
        minLength={props.minLength}
      />
      <button type="submit">This was not me: take the account over</button>
    </form>
  );
}

export function ResetForm(props: { token: string; minLength: number }) {
  return (
    <form method="post" action="/auth/password/reset">
      <input type="hidden" name="token" value={props.token} />
      <PasswordField
        id="password"
        name="password"
        label="New password"
        minLength={props.minLength}
      />
      <p class="muted">Saving it signs you out on every device.</p>
      <button type="submit">Set the new password</button>
    </form>
  );
}

export function ChangeForm(props: { minLength: number }) {
  return (
    <form method="post" action="/auth/password/change">
      <PasswordField id="current_password" label="Current password" />
      <PasswordField
        id="new_password"
        name="new_password"
        label="New password"
        minLength={props.minLength}
      />
      <p class="muted">Your other sessions will be signed out.</p>
      <button type="submit">Change password</button>
    </form>
  );
}
