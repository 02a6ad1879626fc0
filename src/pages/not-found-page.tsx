import type { NotFoundHandler } from "hono";
import type { AppEnv } from "../http/app-env.ts";
import { displayName } from "./account-page.tsx";
import { AccountPage } from "./card-page.tsx";

// A person who follows a dead link gets a page with a way on; an API client
// (anything not asking for HTML first) keeps the problem+json `not_found`.

/** Whether the request is a browser's navigation: it names text/html before JSON. */
function wantsHtml(accept: string | undefined): boolean {
  const types = (accept ?? "").split(",").map((t) => t.split(";")[0]?.trim().toLowerCase());
  const html = types.indexOf("text/html");
  const json = types.findIndex((t) => t === "application/json" || t?.endsWith("+json"));
  return html !== -1 && (json === -1 || html < json);
}

/** The HTML 404 for browsers, else `api` (the problem+json one). */
export const notFoundPage =
  (api: NotFoundHandler<AppEnv>): NotFoundHandler<AppEnv> =>
  (c) => {
    if (c.req.method !== "GET" || !wantsHtml(c.req.header("accept"))) return api(c);
    const principal = c.get("principal");
    const page = AccountPage({
      title: "Page not found",
      signedInAs: principal ? displayName(principal.user) : undefined,
      children: <p>There is no page at this address. It may have moved, or the link is wrong.</p>,
      next: principal
        ? { href: "/account", label: "Go to your account" }
        : { href: "/", label: "Go to the sign-in page" },
    });
    return c.html(page as string, 404, { "cache-control": "no-store" });
  };
