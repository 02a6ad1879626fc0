import type { AuditEvent } from "../audit-trail.ts";
import { isErrorCode } from "../errors.ts";
import { errorMessage } from "../http/error-map.ts";
import type { Problem } from "../http/problem.ts";
import type { SecurityOverview } from "../mfa/security-overview.ts";
import type { AppView } from "../oidc/apps-with-access.ts";
import type { DeviceView } from "../users/devices.ts";
import type { toMeResponse } from "../users/user-view.ts";
import { AppsSection } from "./account/apps.tsx";
import { DevicesSection } from "./account/devices.tsx";
import { EventsSection } from "./account/events.tsx";
import { accountPath } from "./account/path.ts";
import { type Linked, ProvidersSection } from "./account/providers.tsx";
import { AccountPage } from "./card-page.tsx";
import { StepUpForm } from "./step-up-form.tsx";

// The account center (GET /account), the signed-in home: profile, sign-in
// methods, linked providers, devices, apps with access, the person's own security events,
// their data and the way to delete the account. Every change is a plain
// form posting to /account/* (src/routes/account.ts, account-access.ts) or to the password
// routes; nothing needs JavaScript. Its sections about access (providers,
// devices, apps) and events are in account/.

type Me = ReturnType<typeof toMeResponse>;

const notices: Record<string, string> = {
  profile_saved: "Profile saved.",
  device_revoked: "That device is signed out.",
  others_revoked: "Every other device is signed out.",
  unlinked: "Provider unlinked.",
  app_removed:
    "That app's access is removed: it is signed out, and it asks you again before it gets back in.",
  linked: "Provider linked: you can sign in with it from now on.",
  reauthenticated:
    "Confirmed: for the next few minutes you can link a provider or delete the account.",
};

// What a link flow that came back refused says (`?error=`): the link's own
// outcomes, else a refusal code's usual words.
const linkErrors: Record<string, string> = {
  link_taken:
    "That account at the provider is already linked to another account here, so it was not linked to yours.",
  link_other_linked:
    "Another account at this provider is already linked to yours: unlink it first.",
  link_already_linked: "That account at the provider is already linked to yours.",
};

/** The fixed words an `?error=` names, when it names any (never the query's own text). */
export function accountError(code: string | undefined): string | undefined {
  if (code !== undefined && Object.hasOwn(linkErrors, code)) return linkErrors[code];
  return isErrorCode(code) ? errorMessage(code) : undefined;
}

/** The fixed notice a `?notice=` names, when it names one (never the query's own text). */
export const accountNotice = (code: string | undefined) =>
  code !== undefined && Object.hasOwn(notices, code) ? notices[code] : undefined;

/** What people call the account: their name, else their address. */
export const displayName = (user: { full_name: string | null; email: string | null }) =>
  user.full_name ?? user.email ?? "you";

/** Why a signed-in account does not pass the gate, in words; null when it does. */
export function accountRefusal(user: Pick<Me, "status" | "is_whitelisted">): string | null {
  if (user.status === "denied") {
    return "An administrator denied this account: it cannot use the applications behind Gatehouse.";
  }
  if (user.status !== "active") return `This account is ${user.status}. Ask an administrator.`;
  if (!user.is_whitelisted) {
    return "Your account is waiting for an administrator's approval. You will get in as soon as they approve it.";
  }
  return null;
}

function Status(props: { user: Me; continueTo: string | null }) {
  const { user } = props;
  const refusal = accountRefusal(user);
  return (
    <>
      {refusal ? <p class="pending">{refusal}</p> : null}
      {props.continueTo && !refusal ? (
        <p>
          <a class="next" href={props.continueTo}>
            Continue
          </a>
        </p>
      ) : null}
      {user.role === "admin" && !refusal ? (
        <p>
          <a href="/admin">Admin console</a>
        </p>
      ) : null}
    </>
  );
}

function EmailState(props: { user: Me }) {
  const { user } = props;
  if (!user.email) return <p class="muted">No email address.</p>;
  return (
    <>
      <p>
        Email: <strong>{user.email}</strong>{" "}
        {user.email_verified ? (
          <span class="badge ok">confirmed</span>
        ) : (
          <span class="badge warn">not confirmed</span>
        )}
      </p>
      {user.email_verified ? null : (
        <form method="post" action="/auth/email/resend" class="inline">
          <input type="hidden" name="email" value={user.email} />
          <button type="submit" class="secondary">
            Send the confirmation mail again
          </button>
        </form>
      )}
    </>
  );
}

function ProfileSection(props: { user: Me }) {
  return (
    <section aria-labelledby="profile-heading">
      <h2 id="profile-heading">Profile</h2>
      <EmailState user={props.user} />
      <form method="post" action={`${accountPath}/profile`}>
        <label for="full_name">Name</label>
        <input
          id="full_name"
          name="full_name"
          type="text"
          maxlength={200}
          autocomplete="name"
          value={props.user.full_name ?? ""}
        />
        <button type="submit">Save</button>
      </form>
    </section>
  );
}

function SignInMethods(props: { user: Me; overview: SecurityOverview }) {
  const { user, overview } = props;
  return (
    <section aria-labelledby="methods-heading">
      <h2 id="methods-heading">Password and second factors</h2>
      {user.has_password ? (
        <p>
          Password: set. <a href="/auth/password/change">Change your password</a>
        </p>
      ) : user.email ? (
        <form method="post" action="/auth/password/forgot">
          <p>
            No password: you sign in with a provider, a passkey or a mailed code. To add a password,
            we mail you a link to choose one.
          </p>
          <input type="hidden" name="email" value={user.email} />
          <button type="submit" class="secondary">
            Mail me a link to set a password
          </button>
        </form>
      ) : (
        <p class="muted">No password: you sign in with a provider or a passkey.</p>
      )}
      <p>
        Authenticator app: <strong>{overview.totp === "on" ? "on" : "off"}</strong>. Passkeys:{" "}
        <strong>{overview.passkeys.length}</strong>.{" "}
        <a href="/account/security">Manage second factors and passkeys</a>
      </p>
    </section>
  );
}

function DataSection(props: { overview: SecurityOverview; recent: boolean }) {
  return (
    <>
      <section aria-labelledby="data-heading">
        <h2 id="data-heading">Your data</h2>
        <p>
          <a href="/me/export" download="gatehouse-export.json">
            Download everything held about you (JSON)
          </a>
        </p>
      </section>
      <section aria-labelledby="delete-heading" id="delete">
        <h2 id="delete-heading">Delete the account</h2>
        <p class="muted">
          Your sign-in methods, devices and personal data go at once; this cannot be undone.
        </p>
        {props.recent ? (
          <form method="post" action={`${accountPath}/delete`}>
            <label for="confirm-delete">Type DELETE to confirm</label>
            <input
              id="confirm-delete"
              name="confirm"
              type="text"
              required
              autocomplete="off"
              pattern="[Dd][Ee][Ll][Ee][Tt][Ee]"
            />
            <button type="submit" class="danger">
              Delete my account
            </button>
          </form>
        ) : (
          <>
            <p>Deleting the account needs a recent sign-in. Confirm it is you first.</p>
            <StepUpForm
              proof={props.overview.stepUp}
              redirectTo={`${accountPath}?notice=reauthenticated#delete`}
            />
          </>
        )}
      </section>
    </>
  );
}

export type AccountCenter = {
  user: Me;
  /** The enabled sign-in providers, for "Link another". */
  providers: readonly { id: string; label: string }[];
  continueTo: string | null;
  overview: SecurityOverview;
  linked: readonly Linked[];
  devices: readonly DeviceView[];
  /** Apps (OpenID Connect clients) consented to or holding the user's tokens. */
  apps: readonly AppView[];
  events: readonly AuditEvent[];
  /** The session signed in or stepped up within REAUTH_MAX_AGE. */
  recent: boolean;
};

export function accountPage(
  center: AccountCenter,
  shown: {
    notice?: string | undefined;
    error?: string | undefined;
    problem?: Problem | undefined;
  } = {},
) {
  const { user } = center;
  const refused = accountRefusal(user) !== null;
  return AccountPage({
    title: "Your account",
    wide: true,
    signedInAs: displayName(user),
    notice: shown.notice,
    error: shown.error,
    problem: shown.problem,
    nav: <a href="/docs">API documentation</a>,
    children: (
      <>
        <Status user={user} continueTo={center.continueTo} />
        {refused ? (
          <EmailState user={user} />
        ) : (
          <>
            <ProfileSection user={user} />
            <SignInMethods user={user} overview={center.overview} />
            <ProvidersSection
              linked={center.linked}
              providers={center.providers}
              recent={center.recent}
              stepUp={center.overview.stepUp}
            />
            <DevicesSection devices={center.devices} />
            <AppsSection apps={center.apps} />
            <EventsSection events={center.events} />
            <DataSection overview={center.overview} recent={center.recent} />
          </>
        )}
      </>
    ),
  });
}
