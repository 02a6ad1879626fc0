import { DomainError } from "../errors.ts";
import { problemOf } from "../http/error-map.ts";
import { AccountPage } from "./card-page.tsx";

// The OpenID provider's pages: a request we cannot send back to its client,
// the consent question for a client that is not first-party, and the
// confirmation of a sign-out an application asked for.

/** The request's parameters again, so the form's POST carries the same request. */
const Carried = (props: { params: URLSearchParams }) => (
  <>
    {[...props.params].map(([name, value]) => (
      <input type="hidden" name={name} value={value} />
    ))}
  </>
);

const scopeSentences: Record<string, string> = {
  openid: "Know who you are on Gatehouse (an identifier only)",
  email: "See your email address",
  profile: "See your name, username and picture",
  groups: "See your role",
  offline_access: "Stay signed in while you are away (a refresh token)",
};

/** No redirect is safe: the request names an unknown client or an unregistered redirect URI. */
export const authorizationErrorPage = (detail: string) =>
  AccountPage({
    title: "Cannot continue",
    problem: problemOf(
      new DomainError("authorization_request_invalid", {
        detail: `The application sent an invalid sign-in request: ${detail} Go back to the application and try again, or tell its administrator.`,
      }),
    ),
  });

export const consentPage = (
  clientName: string,
  scopes: readonly string[],
  params: URLSearchParams,
) =>
  AccountPage({
    title: `Allow ${clientName}?`,
    children: (
      <>
        <p>
          <strong>{clientName}</strong> wants to:
        </p>
        <ul>
          {scopes.map((scope) => (
            <li>{scopeSentences[scope] ?? scope}</li>
          ))}
        </ul>
        <form method="post" action="/oauth2/consent">
          <Carried params={params} />
          <button type="submit" name="decision" value="allow">
            Allow
          </button>
          <button type="submit" name="decision" value="deny">
            Deny
          </button>
        </form>
      </>
    ),
  });

export const signOutConfirmPage = (params: URLSearchParams) =>
  AccountPage({
    title: "Sign out?",
    children: (
      <>
        <p>An application asks to sign you out of Gatehouse.</p>
        <form method="post" action="/oauth2/logout">
          <Carried params={params} />
          <button type="submit">Sign out</button>
        </form>
      </>
    ),
  });

export const signedOutPage = () =>
  AccountPage({ title: "Signed out", notice: "You are signed out of Gatehouse." });
