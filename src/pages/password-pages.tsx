import type { Child } from "hono/jsx";
import type { Problem } from "../http/problem.ts";
import { HtmlDocument, Messages } from "./html-document.tsx";
import { PasswordToggle, passwordToggleScript } from "./password-toggle.tsx";

// The browser side of password accounts: plain HTML forms that post to the
// JSON routes' own URLs (a form post gets HTML back), so every step works
// without JavaScript. Mail links land on these pages; nothing is consumed by
// opening a link (mail scanners prefetch links), only by submitting its form.

/**
 * Whether the page's content has a password field's show/hide button: only
 * such pages load its script (a rendered JSX node is its HTML as a string).
 */
const hasPasswordToggle = (children: Child) =>
  [children].flat().some((child) => String(child ?? "").includes("data-password-toggle"));

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
      signedInAs={props.signedInAs}
      scripts={[
        ...(props.scripts ?? []),
        ...(hasPasswordToggle(props.children) ? [passwordToggleScript] : []),
      ]}
    >
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
      <button type="submit" class="danger">
        This was not me: take the account over
      </button>
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
