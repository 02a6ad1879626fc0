import { expect } from "bun:test";
import { appTestSetup } from "./app.ts";
import { formPoster } from "./requests.ts";
import { signedInUser } from "./sign-in.ts";

// What the admin console's tests share: an app on its own database, an
// administrator signed in, a screen fetched and a form posted as the
// browser does them.

export async function consoleTestSetup(env: Record<string, string> = {}) {
  const { db, app } = await appTestSetup(env);
  return {
    db,
    pool: db.pool,
    app,
    postForm: formPoster(app),
    /** A new administrator, signed in. */
    admin: (user: Parameters<typeof signedInUser>[2] = {}) =>
      signedInUser(db.pool, app.config, { role: "admin", isWhitelisted: true, ...user }),
    /** A screen in the session `cookie`, redirects not followed: its status and HTML. */
    page: async (path: string, cookie: string) => {
      const response = await app.request(path, { headers: { cookie }, redirect: "manual" });
      return { status: response.status, html: await response.text() };
    },
  };
}

/** A form refused for its input: sent back to `screen` with the validation_failed message. */
export function expectInvalidForm(response: Response, screen: string) {
  expect(response.status).toBe(303);
  expect(response.headers.get("location")).toBe(`${screen}?error=validation_failed`);
}
