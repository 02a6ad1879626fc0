import { raw } from "hono/html";
import type { Child } from "hono/jsx";

/**
 * The shell of every server-rendered page: styles inline, no Referer sent
 * onwards (our URLs can carry one-time tokens and states), and no scripts
 * but our own files, the passkey ceremonies' (src/pages/passkey-page.tsx),
 * on the pages that offer one.
 */
export function HtmlDocument(props: {
  title: string;
  css: string;
  scripts?: readonly string[] | undefined;
  children: Child;
}) {
  return (
    <>
      {raw("<!DOCTYPE html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="referrer" content="no-referrer" />
          <title>{props.title}</title>
          <style>{raw(props.css)}</style>
          {(props.scripts ?? []).map((src) => (
            <script src={src} defer />
          ))}
        </head>
        <body>{props.children}</body>
      </html>
    </>
  );
}
