import type { AppView } from "../../oidc/apps-with-access.ts";
import { ConfirmStep } from "../admin/confirm.tsx";
import { AccountPage } from "../card-page.tsx";
import { when } from "../utc-time.ts";
import { accountPath } from "./path.ts";

// The account center's apps with access, and the confirmation step of
// removing one.

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
export function AppsSection(props: { apps: readonly AppView[] }) {
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
