import { PasskeyButton, passkeyScripts } from "./passkey-page.tsx";
import { AccountPage } from "./password-pages.tsx";

// The page a browser lands on after a right first factor when a second one
// is owed (the pending sign-in's cookie rides along only to POST /auth/mfa).

export function SecondFactorForm(props: { redirectTo: string }) {
  const keep =
    props.redirectTo === "/" ? null : (
      <input type="hidden" name="redirect_to" value={props.redirectTo} />
    );
  return (
    <>
      <PasskeyButton ceremony="second-factor" redirectTo={props.redirectTo} label="Use a passkey" />
      <form method="post" action="/auth/mfa">
        {keep}
        <label for="code">Code from your authenticator app</label>
        <input
          id="code"
          name="code"
          inputmode="numeric"
          pattern="[0-9 ]{6,7}"
          autocomplete="one-time-code"
          required
          autofocus
        />
        <button type="submit">Continue</button>
      </form>
      <details>
        <summary>Use a recovery code instead</summary>
        <form method="post" action="/auth/mfa">
          {keep}
          <label for="recovery_code">Recovery code</label>
          <input id="recovery_code" name="recovery_code" autocomplete="off" required />
          <button type="submit">Continue</button>
        </form>
      </details>
    </>
  );
}

export const secondFactorPage = (
  redirectTo: string,
  problem?: Parameters<typeof AccountPage>[0]["problem"],
) =>
  AccountPage({
    title: "Second factor",
    ...(problem ? { problem } : {}),
    scripts: passkeyScripts,
    children: SecondFactorForm({ redirectTo }),
  });
