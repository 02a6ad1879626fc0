import type { Problem } from "../http/problem.ts";
import type { StepUpProof } from "../sign-in/reauth.ts";
import { AccountPage } from "./card-page.tsx";
import { AuthenticatorCodeField } from "./form-fields.tsx";

// The step-up ("confirm it is you") as a plain form: it posts to POST
// /auth/reauth, which sends the browser back to `redirectTo` once the
// session counts as recently authenticated. It asks for what the account
// can prove itself with (src/sign-in/reauth.ts): a second factor when it has
// one, else its password; with neither, only a fresh sign-in will do.

export function StepUpForm(props: {
  proof: StepUpProof;
  redirectTo: string;
  /** Prefix of the fields' ids, for a page with two of these forms. */
  id?: string;
}) {
  const id = props.id ?? "reauth";
  if (props.proof === "sign_in_again") {
    return (
      <>
        <p>
          Your account has no authenticator code or password to confirm with here: sign out, sign in
          again (with your passkey or your provider), then come back.
        </p>
        <form method="post" action="/sign-out">
          <button type="submit">Sign out</button>
        </form>
      </>
    );
  }
  return (
    <form method="post" action="/auth/reauth">
      <input type="hidden" name="redirect_to" value={props.redirectTo} />
      {props.proof === "second_factor" ? (
        <>
          <AuthenticatorCodeField id={`${id}-code`} optional autofocus={false} />
          <details>
            <summary>Use a recovery code instead</summary>
            <label for={`${id}-recovery-code`}>Recovery code</label>
            <input id={`${id}-recovery-code`} name="recovery_code" type="text" autocomplete="off" />
          </details>
        </>
      ) : (
        <>
          <label for={`${id}-password`}>Your password</label>
          <input
            id={`${id}-password`}
            name="password"
            type="password"
            required
            autocomplete="current-password"
          />
        </>
      )}
      <button type="submit">Confirm</button>
    </form>
  );
}

/** The step-up on a page of its own: what a refused step-up form gets back. */
export const stepUpPage = (
  proof: StepUpProof,
  redirectTo: string,
  signedInAs: string,
  problem?: Problem,
) =>
  AccountPage({
    title: "Confirm it is you",
    signedInAs,
    ...(problem ? { problem } : {}),
    // Back without the query: it may carry the notice that says the step-up passed.
    nav: <a href={redirectTo.split("?")[0]}>Back</a>,
    children: StepUpForm({ proof, redirectTo }),
  });
