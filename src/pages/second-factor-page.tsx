import { raw } from "hono/html";
import type { SecondFactorMethod } from "../mfa/second-factor-proof.ts";
import { AccountPage } from "./card-page.tsx";
import { AuthenticatorCodeField } from "./form-fields.tsx";
import { PasskeyButton, passkeyScripts } from "./passkey-page.tsx";

/** Recovery codes shown once, one per line. */
export const RecoveryCodeList = (props: { codes: readonly string[] }) => (
  <ul>
    {props.codes.map((code) => (
      <li>
        <code>{code}</code>
      </li>
    ))}
  </ul>
);

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
          <AuthenticatorCodeField />
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

// A sign-in of an account that must have a second factor and has none
// (MFA_REQUIRED) continues here instead: set up an authenticator, confirm it
// with its first code, which finishes the sign-in, then keep the recovery
// codes. The pending sign-in's cookie is sent to /auth/mfa/* only.

const keepTarget = (redirectTo: string) =>
  redirectTo === "/" ? null : <input type="hidden" name="redirect_to" value={redirectTo} />;

function EnrolmentStartForm(props: { redirectTo: string }) {
  return (
    <>
      <p>This account must use a second factor. Set up an authenticator app to continue.</p>
      <form method="post" action="/auth/mfa/totp">
        {keepTarget(props.redirectTo)}
        <button type="submit">Set up an authenticator</button>
      </form>
    </>
  );
}

function EnrolmentConfirmForm(props: { redirectTo: string }) {
  return (
    <form method="post" action="/auth/mfa/totp/confirm">
      {keepTarget(props.redirectTo)}
      <AuthenticatorCodeField />
      <button type="submit">Turn on and continue</button>
    </form>
  );
}

type PageProblem = Parameters<typeof AccountPage>[0]["problem"];

/** GET /auth/mfa for a pending sign-in that owes an enrolment (and its refusals). */
export const enrolmentStartPage = (redirectTo: string, problem?: PageProblem) =>
  AccountPage({
    title: "Set up a second factor",
    ...(problem ? { problem } : {}),
    children: EnrolmentStartForm({ redirectTo }),
  });

/** The secret to scan, and the form for its first code. */
export const enrolmentPage = (redirectTo: string, enrolment: { secret: string; qr_svg: string }) =>
  AccountPage({
    title: "Set up a second factor",
    children: (
      <>
        <p>Scan this code with your authenticator app, or type the key into it.</p>
        {/* Our own SVG, made by the qrcode library from the otpauth URL. */}
        <div class="qr">{raw(enrolment.qr_svg)}</div>
        <p>
          Key: <code>{enrolment.secret}</code>
        </p>
        {EnrolmentConfirmForm({ redirectTo })}
      </>
    ),
  });

/** A refused confirmation: the app already has the secret, so only the code is asked again. */
export const enrolmentConfirmPage = (redirectTo: string, problem?: PageProblem) =>
  AccountPage({
    title: "Set up a second factor",
    ...(problem ? { problem } : {}),
    children: EnrolmentConfirmForm({ redirectTo }),
  });

/** Signed in: the recovery codes, shown this once. */
export const recoveryCodesPage = (redirectTo: string, codes: readonly string[]) =>
  AccountPage({
    title: "Keep your recovery codes",
    notice: "Your authenticator is on and you are signed in.",
    children: (
      <>
        <p>
          Each code signs you in once if you lose your authenticator. Store them somewhere safe:
          they are shown only now.
        </p>
        <RecoveryCodeList codes={codes} />
      </>
    ),
    next: { href: redirectTo, label: "Continue" },
  });
