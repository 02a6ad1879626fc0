import { raw } from "hono/html";
import type { Child } from "hono/jsx";
import { BrandMark, brandCss, currentBrand, faviconHref, SiteFooter } from "./branding.tsx";

/**
 * The shell of every server-rendered page: styles inline, no Referer sent
 * onwards (our URLs can carry one-time tokens and states), and no scripts
 * but our own files, the passkey ceremonies' (src/pages/passkey-page.tsx),
 * on the pages that offer one. The operator's branding (src/pages/branding.tsx)
 * gives the title's suffix, the header (unless the page brings its own), the
 * accent colour (`var(--accent)`) and the footer.
 */
export function HtmlDocument(props: {
  title: string;
  css: string;
  scripts?: readonly string[] | undefined;
  /** The page's own header; the brand's by default. */
  header?: Child;
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
          <meta name="referrer" content="no-referrer" />
          <title>{`${props.title} · ${brand.name}`}</title>
          <link rel="icon" href={faviconHref(brand)} />
          <style>{raw(`${brandCss(brand)}\n${props.css}`)}</style>
          {(props.scripts ?? []).map((src) => (
            <script src={src} defer />
          ))}
        </head>
        <body>
          {props.header ?? (
            <header class="site-header">
              <BrandMark />
            </header>
          )}
          {props.children}
          <SiteFooter />
        </body>
      </html>
    </>
  );
}
