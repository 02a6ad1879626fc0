import type { Child } from "hono/jsx";
import type { Problem } from "../http/problem.ts";
import { HtmlDocument, Messages } from "./html-document.tsx";
import { passwordToggleScript } from "./password-toggle.tsx";

// The one-card page that sign-in, sign-up, the password forms, the account
// pages and the error pages share: a title, what happened, the content, one
// way on and the links below.

/**
 * Whether the page's content has a password field's show/hide button: only
 * such pages load its script (a rendered JSX node is its HTML as a string).
 */
const hasPasswordToggle = (children: Child) =>
  [children].flat().some((child) => String(child ?? "").includes("data-password-toggle"));

export function AccountPage(props: {
  title: string;
  notice?: string | undefined;
  problem?: Problem | undefined;
  /** A refusal that came back through a redirect, in words (no problem to show). */
  error?: string | undefined;
  /** The page's scripts (only pages with a passkey ceremony have any). */
  scripts?: readonly string[];
  /** The links at the bottom; a signed-in page gives its own (the sign-in ones by default). */
  nav?: Child;
  /** A signed-in page: the name shown in its header, beside "Sign out". */
  signedInAs?: string | undefined;
  /** An end page's one obvious way on ("Sign in", "Continue"). */
  next?: { href: string; label: string } | undefined;
  /** A page of tables and several sections: a wider card. */
  wide?: boolean;
  children?: Child;
}) {
  const problem = props.problem;
  return (
    <HtmlDocument
      title={props.title}
      signedInAs={props.signedInAs}
      scripts={[
        ...(props.scripts ?? []),
        ...(hasPasswordToggle(props.children) ? [passwordToggleScript] : []),
      ]}
    >
      <main class={props.wide ? "wide" : undefined}>
        <h1>{props.title}</h1>
        <Messages notice={props.notice} error={props.error} />
        {problem ? (
          <div class="error" role="alert">
            {problem.extra.errors?.length ? (
              <ul>
                {problem.extra.errors.map((e) => (
                  <li>{e.detail}</li>
                ))}
              </ul>
            ) : (
              <p>{problem.detail ?? problem.title}</p>
            )}
          </div>
        ) : null}
        {props.children}
        {props.next ? (
          <p>
            <a class="next" href={props.next.href}>
              {props.next.label}
            </a>
          </p>
        ) : null}
        <nav>
          {props.nav ??
            (props.signedInAs !== undefined ? (
              <a href="/account">Your account</a>
            ) : (
              <>
                <a href="/">Sign in</a>
                <a href="/auth/signup">Create an account</a>
                <a href="/auth/password/forgot">Forgot your password?</a>
              </>
            ))}
        </nav>
      </main>
    </HtmlDocument>
  );
}
