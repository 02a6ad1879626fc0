import { afterAll, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { freePort } from "../src/free-port.ts";
import { hashPassword } from "../src/password/hashing.ts";
import { startTestApp } from "./support/app.ts";
import { chromiumPath, launchChromium, warnWithoutChromium } from "./support/chromium.ts";
import { createTestDatabase } from "./support/database.ts";
import { signedInUser } from "./support/sign-in.ts";

// Real pages on other origins in Chromium: two ports of 127.0.0.1 are two
// origins (and one site, so the browser would attach a Lax session cookie
// whenever it may). One page's origin is in CORS_ALLOWED_ORIGINS, the other's
// is not.
warnWithoutChromium("CORS browser tests");

const password = "correct horse battery staple";
const db = await createTestDatabase();
const port = await freePort();
const page = () =>
  Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () =>
      new Response("<!doctype html><title>An app</title><p>An app", {
        headers: { "content-type": "text/html" },
      }),
  });
const allowedSite = page();
const unlistedSite = page();
const allowedOrigin = `http://127.0.0.1:${allowedSite.port}`;
const unlistedOrigin = `http://127.0.0.1:${unlistedSite.port}`;
const app = await startTestApp(db.pool, {
  PORT: String(port),
  PUBLIC_URL: `http://127.0.0.1:${port}`,
  CORS_ALLOWED_ORIGINS: allowedOrigin,
});
let browser: Browser | undefined;
afterAll(async () => {
  await browser?.close();
  await allowedSite.stop(true);
  await unlistedSite.stop(true);
  await app.close();
  await db.drop();
});

const member = await signedInUser(db.pool, app.config, {
  isWhitelisted: true,
  passwordHash: await hashPassword(password, app.config.passwords),
});
const email = member.user.email ?? "";

/** A page at `origin` in a browser that holds the member's session cookie for Gatehouse. */
async function pageAt(origin: string): Promise<Page> {
  browser ??= await launchChromium();
  const context = await browser.newContext();
  const [name, value] = member.cookie.split("=") as [string, string];
  await context.addCookies([{ name, value, url: app.url, httpOnly: true, sameSite: "Lax" }]);
  const opened = await context.newPage();
  await opened.goto(`${origin}/`);
  return opened;
}

type Outcome = { status: number; body: unknown } | { failed: string };

/** fetch() run by the page itself; a request the browser refuses is `failed`. */
function fetchFrom(
  at: Page,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string; credentials?: string },
): Promise<Outcome> {
  return at.evaluate(
    async ({ url, init }) => {
      try {
        const response = await fetch(url, init as RequestInit);
        const text = await response.text();
        return { status: response.status, body: text ? JSON.parse(text) : null };
      } catch (error) {
        return { failed: String(error) };
      }
    },
    { url: `${app.url}${path}`, init },
  );
}

const passwordGrant = {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ grant_type: "password", email, password }),
};

test.skipIf(!chromiumPath)(
  "a page on an allowed origin signs in with the password grant, reads /me with the bearer token and refreshes with a form post",
  async () => {
    const site = await pageAt(allowedOrigin);
    const grant = await fetchFrom(site, "/auth/token", passwordGrant);
    expect(grant).toMatchObject({ status: 200, body: { token_type: "Bearer" } });
    const tokens = (grant as { body: { access_token: string; refresh_token: string } }).body;

    const me = await fetchFrom(site, "/me", {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(me).toMatchObject({ status: 200, body: { email } });

    // What an OAuth library sends: a form, no preflight.
    const refreshed = await fetchFrom(site, "/auth/token", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: tokens.refresh_token,
      }).toString(),
    });
    expect(refreshed).toMatchObject({ status: 200, body: { token_type: "Bearer" } });
  },
  60_000,
);

test.skipIf(!chromiumPath)(
  "a page on an unlisted origin is refused by the browser, for the token endpoint and for /me",
  async () => {
    const elsewhere = await pageAt(unlistedOrigin);
    const grant = await fetchFrom(elsewhere, "/auth/token", passwordGrant);
    expect(grant).toEqual({ failed: expect.stringContaining("Failed to fetch") });

    const tokens = (await (
      await fetch(`${app.url}/auth/token`, {
        ...passwordGrant,
        headers: { "content-type": "application/json" },
      })
    ).json()) as { access_token: string };
    const me = await fetchFrom(elsewhere, "/me", {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(me).toEqual({ failed: expect.stringContaining("Failed to fetch") });
  },
  60_000,
);

test.skipIf(!chromiumPath)(
  "the session cookie does not cross: a credentialed call from an allowed origin is refused by the browser, a form post by the CSRF check",
  async () => {
    const site = await pageAt(allowedOrigin);
    // Without Access-Control-Allow-Credentials the browser refuses the preflight,
    // so the cookie-authenticated DELETE is never sent.
    const deleted = await fetchFrom(site, "/me", { method: "DELETE", credentials: "include" });
    expect(deleted).toEqual({ failed: expect.stringContaining("Failed to fetch") });

    // A form needs no preflight and carries the Lax cookie (same site): CSRF refuses it.
    await site.setContent(
      `<form method="post" action="${app.url}/auth/logout"><button>Sign out</button></form>`,
    );
    const [answer] = await Promise.all([
      site.waitForResponse(`${app.url}/auth/logout`),
      site.click("button"),
    ]);
    expect(answer.status()).toBe(403);
    expect(await answer.request().headerValue("cookie")).toBe(member.cookie);

    const still = await fetch(`${app.url}/me`, { headers: { cookie: member.cookie } });
    expect(still.status).toBe(200);
  },
  60_000,
);
