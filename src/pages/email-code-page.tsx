import type { Problem } from "../http/problem.ts";
import { AccountPage } from "./card-page.tsx";
import { EmailField } from "./form-fields.tsx";

// Signing in with a code mailed to the account's address: a page asks for
// the address, the next one for the code. Both are plain forms posting to
// the JSON routes' own URLs, like every account page.

const KeepRedirect = (props: { redirectTo: string }) =>
  props.redirectTo === "/" ? null : (
    <input type="hidden" name="redirect_to" value={props.redirectTo} />
  );

export function EmailCodeRequestForm(props: { redirectTo: string; email?: string }) {
  return (
    <form method="post" action="/auth/email-code">
      <KeepRedirect redirectTo={props.redirectTo} />
      <EmailField autocomplete="email" value={props.email ?? ""} />
      <button type="submit">Email me a code</button>
    </form>
  );
}

export function EmailCodeForm(props: { redirectTo: string; email: string }) {
  return (
    <form method="post" action="/auth/email-code/verify">
      <KeepRedirect redirectTo={props.redirectTo} />
      <EmailField autocomplete="email" value={props.email} />
      <label for="code">Code from the mail</label>
      <input
        id="code"
        name="code"
        inputmode="numeric"
        pattern="[0-9 ]{6,11}"
        autocomplete="one-time-code"
        required
        autofocus
      />
      <button type="submit">Sign in</button>
    </form>
  );
}

const askAgain = (redirectTo: string) => {
  const query = redirectTo === "/" ? "" : `?${new URLSearchParams({ redirect_to: redirectTo })}`;
  return (
    <p class="muted">
      No mail after a few minutes? Check the spam folder, or{" "}
      <a href={`/auth/email-code${query}`}>ask for a new code</a>.
    </p>
  );
};

export const emailCodeRequestPage =
  (redirectTo: string, email = "") =>
  (problem?: Problem) =>
    AccountPage({
      title: "Sign in with a code",
      ...(problem ? { problem } : {}),
      children: (
        <>
          <p>We mail you a six-digit code that signs you in once, within 10 minutes.</p>
          <EmailCodeRequestForm redirectTo={redirectTo} email={email} />
        </>
      ),
    });

export const emailCodePage =
  (redirectTo: string, email: string, notice?: string) => (problem?: Problem) =>
    AccountPage({
      title: "Type the code",
      ...(notice ? { notice } : {}),
      ...(problem ? { problem } : {}),
      children: (
        <>
          <EmailCodeForm redirectTo={redirectTo} email={email} />
          {askAgain(redirectTo)}
        </>
      ),
    });
