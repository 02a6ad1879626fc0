import { raw } from "hono/html";
import type { Child } from "hono/jsx";

/**
 * The shell of every server-rendered page: no scripts, styles inline, and no
 * Referer sent onwards, since our URLs can carry one-time tokens and states.
 */
export function HtmlDocument(props: { title: string; css: string; children: Child }) {
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
        </head>
        <body>{props.children}</body>
      </html>
    </>
  );
}
