import { expect } from "bun:test";
import { appTestSetup } from "./app.ts";
import { formPoster } from "./requests.ts";
import { signedInUser } from "./sign-in.ts";

// What the admin console's tests share: an app on its own database, an
// administrator signed in, a screen fetched and a form posted as the
// browser does them.

type Fields = Record<string, string> | [string, string][];

export async function consoleTestSetup(env: Record<string, string> = {}) {
  const { db, app } = await appTestSetup(env);
  const postForm = formPoster(app);
  return {
    db,
    pool: db.pool,
    app,
    postForm,
    /** Posts each of `forms` to `path`: each is refused for its input, sent back to `screen`. */
    expectInvalidForms: async (cookie: string, path: string, screen: string, forms: Fields[]) => {
      for (const fields of forms) expectInvalidForm(await postForm(path, cookie, fields), screen);
    },
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
