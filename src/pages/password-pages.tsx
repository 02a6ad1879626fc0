import { EmailField, PasswordField } from "./form-fields.tsx";

// The browser side of password accounts: plain HTML forms that post to the
// JSON routes' own URLs (a form post gets HTML back), so every step works
// without JavaScript. Mail links land on these pages; nothing is consumed by
// opening a link (mail scanners prefetch links), only by submitting its form.

/** The end pages' one way on: to sign in, or back to the signed-in account. */
export const signInNext = { href: "/", label: "Sign in" };
export const accountNext = { href: "/account", label: "Back to your account" };

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
