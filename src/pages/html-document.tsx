import { raw } from "hono/html";
import type { Child } from "hono/jsx";
import { BrandMark, brandCss, currentBrand, faviconHref, SiteFooter } from "./branding.tsx";
import { siteCss } from "./site-css.ts";

/**
 * The one layout of every server-rendered page: the shared stylesheet
 * (site-css.ts, light and dark) inline, no Referer sent onwards (our URLs can
 * carry one-time tokens and states), and no scripts but our own files (the
 * passkey ceremonies', the password fields' show/hide) on the pages that use
 * them. The header is the same everywhere: the operator's brand
 * (branding.tsx), the page's own navigation if any (the console's screens),
 * and, with a session, who is signed in, their account and "Sign out". The
 * footer carries the support link.
 */
export function HtmlDocument(props: {
  title: string;
  /** A card of forms and sections (the default), or the admin console's wide tables. */
  kind?: "card" | "console";
  scripts?: readonly string[] | undefined;
  /** A signed-in page: the name shown in the header, beside "Sign out". */
  signedInAs?: string | undefined;
  /** Words after the brand's name in the header ("admin"). */
  brandSuffix?: string;
  /** The page's own navigation, in the header. */
  nav?: Child;
  children: Child;
}) {
  const brand = currentBrand();
  return (
    <>
      {raw("<!DOCTYPE html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="color-scheme" content="light dark" />
          <meta name="referrer" content="no-referrer" />
          <title>{`${props.title} · ${brand.name}`}</title>
          <link rel="icon" href={faviconHref(brand)} />
          <style>{raw(`${brandCss(brand)}\n${siteCss}`)}</style>
          {(props.scripts ?? []).map((src) => (
            <script src={src} defer />
          ))}
        </head>
        <body class={props.kind ?? "card"}>
          <header class="site-header">
            <BrandMark {...(props.brandSuffix ? { suffix: props.brandSuffix } : {})} />
            {props.nav ?? null}
            {props.signedInAs !== undefined ? <SignedIn name={props.signedInAs} /> : null}
          </header>
          {props.children}
          <SiteFooter />
        </body>
      </html>
    </>
  );
}

/** Who is signed in, with their account and the way out (a form: POST, so no other site can). */
function SignedIn(props: { name: string }) {
  return (
    <div class="account">
      <span>
        Signed in as <strong>{props.name}</strong>
      </span>
      <a href="/account">Your account</a>
      <form method="post" action="/sign-out">
        <button type="submit">Sign out</button>
      </form>
    </div>
  );
}

/** A page's notice (what worked) and error (what was refused), each in fixed words. */
export function Messages(props: {
  notice?: string | null | undefined;
  error?: string | null | undefined;
}) {
  return (
    <>
      {props.notice ? (
        <p class="notice" role="status">
          {props.notice}
        </p>
      ) : null}
      {props.error ? (
        <p class="error" role="alert">
          {props.error}
        </p>
      ) : null}
    </>
  );
}
