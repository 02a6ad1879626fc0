import { raw } from "hono/html";
import type { Problem } from "../http/problem.ts";
import type { SecurityOverview } from "../mfa/security-overview.ts";
import type { TotpEnrolment } from "../mfa/totp-enrolment.ts";
import { AccountPage } from "./card-page.tsx";
import { AuthenticatorCodeField } from "./form-fields.tsx";
import { RecoveryCodeList } from "./second-factor-page.tsx";
import { StepUpForm } from "./step-up-form.tsx";

// The account security page (GET /account/security): the signed-in user's
// second factors, managed with plain forms that post to /account/security/*
// (src/routes/account-security.ts). Changes that need a recent sign-in are
// offered only while the session has one; otherwise the page offers the
// step-up first. Secrets (the new authenticator's key, recovery codes)
// appear only in the answer to the form that made them, never on a GET.

export const securityPath = "/account/security";

const notices: Record<string, string> = {
  reauthenticated: "Confirmed: you can change your sign-in methods for the next few minutes.",
  totp_off: "Your authenticator app is off, and its recovery codes with it.",
};

/** The fixed notice a `?notice=` names, when it names one (never the query's own text). */
export const securityNotice = (code: string | undefined) =>
  code !== undefined && Object.hasOwn(notices, code) ? notices[code] : undefined;

function SignedInNav() {
  return (
    <>
      <a href="/account">Your account</a>
      <a href="/account/passkeys">Passkeys</a>
      <a href="/auth/password/change">Change password</a>
    </>
  );
}

/** A current code, or a recovery code, authorising a change (ids kept apart per form). */
function ProofFields(props: { id: string }) {
  return (
    <>
      <AuthenticatorCodeField id={`${props.id}-code`} optional autofocus={false} />
      <details>
        <summary>Use a recovery code instead</summary>
        <label for={`${props.id}-recovery-code`}>Recovery code</label>
        <input
          id={`${props.id}-recovery-code`}
          name="recovery_code"
          type="text"
          autocomplete="off"
        />
      </details>
    </>
  );
}

function ConfirmForm() {
  return (
    <form method="post" action={`${securityPath}/totp/confirm`}>
      <AuthenticatorCodeField id="confirm-code" label="Code your app shows now" />
      <button type="submit">Turn on</button>
    </form>
  );
}

function StartForm(props: { label: string }) {
  return (
    <form method="post" action={`${securityPath}/totp`}>
      <button type="submit">{props.label}</button>
    </form>
  );
}

function AuthenticatorSection(props: { overview: SecurityOverview; recent: boolean }) {
  const { overview, recent } = props;
  if (overview.totp === "on") {
    return (
      <section aria-labelledby="totp-heading">
        <h2 id="totp-heading">Authenticator app</h2>
        <p>
          <strong>On.</strong> {overview.recoveryCodesLeft} of 10 recovery codes left.
        </p>
        {recent ? (
          <>
            <h3>New recovery codes</h3>
            <form method="post" action={`${securityPath}/recovery-codes`}>
              <p class="muted">Your current recovery codes stop working.</p>
              <ProofFields id="renew" />
              <button type="submit">Get new recovery codes</button>
            </form>
            <h3>Turn off the authenticator app</h3>
            <form method="post" action={`${securityPath}/totp/off`}>
              <p class="muted">Its recovery codes stop working too.</p>
              <ProofFields id="off" />
              <button type="submit" class="danger">
                Turn off
              </button>
            </form>
          </>
        ) : null}
      </section>
    );
  }
  return (
    <section aria-labelledby="totp-heading">
      <h2 id="totp-heading">Authenticator app</h2>
      {overview.totp === "pending" ? (
        <>
          <p>
            <strong>Not finished.</strong> Enter the code your authenticator app shows to turn it
            on.
          </p>
          <ConfirmForm />
          {recent ? <StartForm label="Start again with a new key" /> : null}
        </>
      ) : (
        <>
          <p>
            <strong>Off.</strong> An app such as a password manager or an authenticator shows a new
            six-digit code every 30 seconds; with it on, a password alone does not sign you in.
          </p>
          {recent ? <StartForm label="Set up an authenticator app" /> : null}
        </>
      )}
    </section>
  );
}

const day = (date: Date | null) => (date ? date.toISOString().slice(0, 10) : "never");

function PasskeysSection(props: { overview: SecurityOverview }) {
  const { passkeys } = props.overview;
  return (
    <section aria-labelledby="passkeys-heading">
      <h2 id="passkeys-heading">Passkeys</h2>
      {passkeys.length === 0 ? (
        <p class="muted">No passkey yet.</p>
      ) : (
        <ul>
          {passkeys.map((p) => (
            <li>
              <strong>{p.name}</strong>{" "}
              <span class="muted">
                added {day(p.created_at)}, last used {day(p.last_used_at)}
              </span>
            </li>
          ))}
        </ul>
      )}
      <p>
        <a href="/account/passkeys">Add or remove passkeys</a>
      </p>
    </section>
  );
}

export function accountSecurityPage(props: {
  overview: SecurityOverview;
  /** The session signed in or stepped up within REAUTH_MAX_AGE. */
  recent: boolean;
  notice?: string | undefined;
  problem?: Problem | undefined;
  /** Who is signed in, for the page's header. */
  signedInAs: string;
}) {
  const { overview, recent } = props;
  return AccountPage({
    title: "Account security",
    signedInAs: props.signedInAs,
    ...(props.notice ? { notice: props.notice } : {}),
    ...(props.problem ? { problem: props.problem } : {}),
    nav: <SignedInNav />,
    children: (
      <>
        {recent ? null : (
          <section aria-labelledby="reauth-heading">
            <h2 id="reauth-heading">Confirm it is you</h2>
            <p class="muted">
              Changing how you sign in needs a recent sign-in. Confirm it is you to continue.
            </p>
            <StepUpForm
              proof={overview.stepUp}
              redirectTo={`${securityPath}?notice=reauthenticated`}
            />
          </section>
        )}
        <AuthenticatorSection overview={overview} recent={recent} />
        <PasskeysSection overview={overview} />
      </>
    ),
  });
}

/** The new authenticator's key, as a QR code and as text, and the form for its first code. */
export const enrolmentPage = (enrolment: TotpEnrolment, signedInAs: string) =>
  AccountPage({
    title: "Set up an authenticator app",
    signedInAs,
    nav: <SignedInNav />,
    children: (
      <>
        <p>Scan this code with your authenticator app, or type the key into it.</p>
        {/* Our own SVG, made by the qrcode library from the otpauth URL. */}
        <div class="qr" role="img" aria-label="QR code of the key">
          {raw(enrolment.qr_svg)}
        </div>
        <p>
          Key: <code>{enrolment.secret}</code>
        </p>
        <ConfirmForm />
        <p class="muted">
          Until you enter a code, nothing changes: <a href={securityPath}>cancel</a>.
        </p>
      </>
    ),
  });

/** Recovery codes, shown this once (the first set, or a new one). */
export const recoveryCodesPage = (codes: readonly string[], first: boolean, signedInAs: string) =>
  AccountPage({
    title: "Keep your recovery codes",
    signedInAs,
    notice: first
      ? "Your authenticator app is on."
      : "New recovery codes: the old ones no longer work.",
    nav: <SignedInNav />,
    children: (
      <>
        <p>
          Each code works once, in place of a code from your app, if you lose it. Store them
          somewhere safe: they are shown only now.
        </p>
        <RecoveryCodeList codes={codes} />
      </>
    ),
    next: { href: securityPath, label: "Done" },
  });
