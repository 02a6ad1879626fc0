import type { AuditEvent } from "../audit-trail.ts";
import { isErrorCode } from "../errors.ts";
import { errorMessage } from "../http/error-map.ts";
import type { Problem } from "../http/problem.ts";
import type { SecurityOverview } from "../mfa/security-overview.ts";
import type { AppView } from "../oidc/apps-with-access.ts";
import type { DeviceView } from "../users/devices.ts";
import type { linkedAccountView } from "../users/user-record.ts";
import type { toMeResponse } from "../users/user-view.ts";
import { ConfirmStep } from "./admin/confirm.tsx";
import { deviceName } from "./device-names.ts";
import { AccountPage } from "./password-pages.tsx";
import { eventName } from "./security-event-names.ts";
import { StepUpForm } from "./step-up-form.tsx";

// The account center (GET /account), the signed-in home: profile, sign-in
// methods, linked providers, devices, apps with access, the person's own security events,
// their data and the way to delete the account. Every change is a plain
// form posting to /account/* (src/routes/account.ts) or to the password
// routes; nothing needs JavaScript.

export const accountPath = "/account";

type Me = ReturnType<typeof toMeResponse>;
type Linked = ReturnType<typeof linkedAccountView>;

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

/** "2026-12-03 14:05 UTC": one zone for everyone, said so. */
export const when = (date: Date | string) =>
  `${new Date(date).toISOString().slice(0, 16).replace("T", " ")} UTC`;

const providerLabels: Record<string, string> = {
  github: "GitHub",
  google: "Google",
  microsoft: "Microsoft",
  oidc: "Single sign-on",
};
const providerLabel = (id: string) => providerLabels[id] ?? id;

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

function LinkProviders(props: {
  unlinked: readonly { id: string; label: string }[];
  recent: boolean;
  stepUp: SecurityOverview["stepUp"];
}) {
  if (props.unlinked.length === 0) return null;
  if (!props.recent) {
    return (
      <>
        <p class="muted">To link another provider, confirm it is you first.</p>
        <StepUpForm
          proof={props.stepUp}
          id="link-reauth"
          redirectTo={`${accountPath}?notice=reauthenticated#providers`}
        />
      </>
    );
  }
  return (
    <div class="link-buttons">
      {props.unlinked.map((p) => (
        <form method="post" action={`${accountPath}/providers/${p.id}/link`}>
          <button type="submit" class="secondary">
            Link {p.label}
          </button>
        </form>
      ))}
    </div>
  );
}

function ProvidersSection(props: {
  linked: readonly Linked[];
  providers: readonly { id: string; label: string }[];
  recent: boolean;
  stepUp: SecurityOverview["stepUp"];
}) {
  const unlinked = props.providers.filter((p) => !props.linked.some((a) => a.provider === p.id));
  return (
    <section aria-labelledby="providers-heading" id="providers">
      <h2 id="providers-heading">Linked providers</h2>
      {props.linked.length === 0 ? (
        <p class="muted">No provider is linked to this account.</p>
      ) : (
        <ul class="rows">
          {props.linked.map((a) => (
            <li>
              <div>
                <strong>{providerLabel(a.provider)}</strong>
                <br />
                <span class="muted">
                  {a.email ?? "no address"}, linked {when(a.created_at)}
                </span>
              </div>
              <form method="post" action={`${accountPath}/providers/${a.provider}/unlink`}>
                <button
                  type="submit"
                  class="secondary"
                  aria-label={`Unlink ${providerLabel(a.provider)}`}
                >
                  Unlink
                </button>
              </form>
            </li>
          ))}
        </ul>
      )}
      <LinkProviders unlinked={unlinked} recent={props.recent} stepUp={props.stepUp} />
    </section>
  );
}

function DevicesSection(props: { devices: readonly DeviceView[] }) {
  const others = props.devices.filter((d) => !d.current).length;
  return (
    <section aria-labelledby="devices-heading">
      <h2 id="devices-heading">Devices</h2>
      <p class="muted">Where this account is signed in now.</p>
      <ul class="rows">
        {props.devices.map((d) => {
          const name = deviceName(d.user_agent, d.kind);
          return (
            <li>
              <div>
                <strong>{name}</strong>{" "}
                {d.current ? <span class="badge ok">this device</span> : null}
                <br />
                <span class="muted">
                  Last seen {when(d.last_seen_at)}
                  {d.ip ? `, from ${d.ip}` : ""}; signed in {when(d.created_at)}
                </span>
              </div>
              <form method="post" action={`${accountPath}/sessions/${d.id}/revoke`}>
                <button
                  type="submit"
                  class="secondary"
                  aria-label={`${d.current ? "Sign out" : "Revoke"} ${name}`}
                >
                  {d.current ? "Sign out" : "Revoke"}
                </button>
              </form>
            </li>
          );
        })}
      </ul>
      {others > 0 ? (
        <form method="post" action={`${accountPath}/sessions/revoke-others`}>
          <button type="submit" class="secondary">
            Sign out every other device ({others})
          </button>
        </form>
      ) : null}
    </section>
  );
}

// What each scope lets an app know, in a few words (the consent page says it at length).
const scopeWords: Record<string, string> = {
  openid: "who you are",
  email: "your email address",
  profile: "your name and picture",
  groups: "your role",
  offline_access: "staying signed in",
};
const scopeList = (scopes: readonly string[]) =>
  scopes.length === 0 ? "sign-in only" : scopes.map((s) => scopeWords[s] ?? s).join(", ");

/** Apps signed in with this account (OpenID Connect clients): what they were allowed, and removal. */
function AppsSection(props: { apps: readonly AppView[] }) {
  return (
    <section aria-labelledby="apps-heading" id="apps">
      <h2 id="apps-heading">Apps with access</h2>
      {props.apps.length === 0 ? (
        <p class="muted">No app signs in with this account.</p>
      ) : (
        <ul class="rows">
          {props.apps.map((a) => (
            <li>
              <div>
                <strong>{a.name}</strong>{" "}
                {a.signed_in ? <span class="badge ok">signed in</span> : null}
                <br />
                <span class="muted">
                  Can know {scopeList(a.scopes)}
                  {a.consented_at ? `; allowed ${when(a.consented_at)}` : ""}
                  {a.last_used_at ? `; last used ${when(a.last_used_at)}` : ""}
                </span>
              </div>
              <form method="post" action={`${accountPath}/apps/${a.client_id}/remove`}>
                <button type="submit" class="secondary" aria-label={`Remove access of ${a.name}`}>
                  Remove access
                </button>
              </form>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** The second step of "Remove access": what it does, and the button that does it. */
export const removeAppPage = (props: { name: string; app: AppView }) =>
  AccountPage({
    title: "Remove the app's access?",
    signedInAs: props.name,
    nav: <a href={accountPath}>Back to your account</a>,
    children: (
      <ConfirmStep
        subject={props.app.name}
        question="Remove the access of"
        consequence="It is signed out at once (its tokens stop working, refresh tokens too), and the next time you sign in to it, it asks for your permission again."
        button="Remove access"
        action={`${accountPath}/apps/${props.app.client_id}/remove`}
        fields={{}}
        cancelHref={`${accountPath}#apps`}
      />
    ),
  });

/** The person's own audit events, newest first, one per line. */
export function EventList(props: { events: readonly AuditEvent[] }) {
  if (props.events.length === 0) return <p class="muted">No events yet.</p>;
  return (
    <ul class="rows">
      {props.events.map((e) => (
        <li>
          <div>
            <strong>{eventName(e.event_type, e.context)}</strong>{" "}
            {e.result === "failure" ? <span class="badge warn">failed</span> : null}
            <br />
            <span class="muted">
              {when(e.occurred_at)}
              {e.ip ? `, from ${e.ip}` : ""}
              {e.user_agent ? `, ${deviceName(e.user_agent, "browser")}` : ""}
            </span>
          </div>
        </li>
      ))}
    </ul>
  );
}

function EventsSection(props: { events: readonly AuditEvent[] }) {
  return (
    <section aria-labelledby="events-heading">
      <h2 id="events-heading">Recent security events</h2>
      <EventList events={props.events} />
      <p>
        <a href={`${accountPath}/events`}>All security events</a>
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

/** Every security event of the person, a page at a time. */
export const accountEventsPage = (props: {
  name: string;
  events: readonly AuditEvent[];
  next: string | null;
}) =>
  AccountPage({
    title: "Your security events",
    wide: true,
    signedInAs: props.name,
    nav: <a href={accountPath}>Back to your account</a>,
    children: (
      <>
        <p class="muted">
          Sign-ins, failed attempts and changes to this account, newest first, with the address they
          came from.
        </p>
        <EventList events={props.events} />
        {props.next ? (
          <p>
            <a href={`${accountPath}/events?cursor=${encodeURIComponent(props.next)}`}>
              Older events
            </a>
          </p>
        ) : null}
      </>
    ),
  });
