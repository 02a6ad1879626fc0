import type { SecondFactorMethod } from "../mfa/second-factor-proof.ts";
import { PasskeyButton, passkeyScripts } from "./passkey-page.tsx";
import { AccountPage } from "./password-pages.tsx";

// The page a browser lands on after a right first factor when a second one
// is owed (the pending sign-in's cookie rides along only to POST /auth/mfa).

/** The forms of the factors the user has (`methods`), or of all when unknown (null). */
export function SecondFactorForm(props: {
  redirectTo: string;
  methods: readonly SecondFactorMethod[] | null;
}) {
  const keep =
    props.redirectTo === "/" ? null : (
      <input type="hidden" name="redirect_to" value={props.redirectTo} />
    );
  const offers = (method: SecondFactorMethod) => props.methods?.includes(method) ?? true;
  return (
    <>
      {offers("passkey") ? (
        <PasskeyButton
          ceremony="second-factor"
          redirectTo={props.redirectTo}
          label="Use a passkey"
        />
      ) : null}
      {offers("totp") ? (
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
      ) : null}
      {offers("recovery_code") ? (
        <details>
          <summary>Use a recovery code instead</summary>
          <form method="post" action="/auth/mfa">
            {keep}
            <label for="recovery_code">Recovery code</label>
            <input id="recovery_code" name="recovery_code" autocomplete="off" required />
            <button type="submit">Continue</button>
          </form>
        </details>
      ) : null}
    </>
  );
}

export const secondFactorPage = (
  redirectTo: string,
  methods: readonly SecondFactorMethod[] | null,
  problem?: Parameters<typeof AccountPage>[0]["problem"],
) =>
  AccountPage({
    title: "Second factor",
    ...(problem ? { problem } : {}),
    ...(methods === null || methods.includes("passkey") ? { scripts: passkeyScripts } : {}),
    children: SecondFactorForm({ redirectTo, methods }),
  });
