import { expect } from "bun:test";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { sql } from "slonik";
import { createSession } from "../src/sessions/sessions.ts";
import { browserTestApp, chromiumTests } from "./support/chromium.ts";
import { signedInUser } from "./support/sign-in.ts";

// A real browser on the account center and the sign-in pages, at a desktop
// width and a phone's: nothing scrolls sideways, every control has a name,
// one h1 a page, and a device is signed out with the page's own button.
const { browserTest, openBrowser } = chromiumTests("account browser test");

const artifacts = join(import.meta.dir, "artifacts");

const { db, app } = await browserTestApp();

const firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

/** What the page shows that breaks the rules: sideways scroll, unnamed controls, h1 count. */
const problemsOf = (page: Page) =>
  page.evaluate(`(() => {
    const root = document.documentElement;
    const problems = [];
    if (root.scrollWidth > root.clientWidth) problems.push("scrolls sideways: " + root.scrollWidth);
    const h1s = document.querySelectorAll("h1").length;
    if (h1s !== 1) problems.push(h1s + " h1");
    for (const el of document.querySelectorAll("input:not([type=hidden]), select, textarea, button")) {
      if (el.closest("[hidden]")) continue;
      const named = (el.labels && el.labels.length > 0) || el.getAttribute("aria-label") || el.textContent.trim();
      if (!named) problems.push("unnamed " + el.outerHTML.slice(0, 80));
    }
    if (!document.querySelector('meta[name=viewport]')) problems.push("no viewport tag");
    return problems;
  })()`) as Promise<string[]>;

/** Each of `paths`, opened in `page` (`width` px wide), breaks none of the rules. */
async function expectNoProblems(page: Page, width: number, paths: readonly string[]) {
  for (const path of paths) {
    await page.goto(`${app.url}${path}`);
    expect(`${path} at ${width}: ${await problemsOf(page)}`).toBe(`${path} at ${width}: `);
  }
}

/** A screenshot of `path`, whole, for a person to look at. */
async function photograph(page: Page, path: string, name: string) {
  await page.goto(`${app.url}${path}`);
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}

browserTest(
  "the account center and sign-in pages fit a phone and a desktop, with every control named",
  async () => {
    const member = await signedInUser(db.pool, app.config, {
      isWhitelisted: true,
      fullName: "Robin Browser-Tester With A Long Name",
    });
    await createSession(db.pool, {
      userId: member.user.id,
      ttlMs: app.config.session.SESSION_TTL,
      idleTtlMs: app.config.session.SESSION_IDLE_TTL,
      ip: "2001:db8:85a3::8a2e:370:7334",
      userAgent: firefox,
    });
    const [name, value] = member.cookie.split("=") as [string, string];
    await mkdir(artifacts, { recursive: true });
    const browser = await openBrowser();
    for (const width of [1280, 390]) {
      const context = await browser.newContext({ viewport: { width, height: 900 } });
      const page = await context.newPage();
      await expectNoProblems(page, width, [
        "/",
        "/auth/signup",
        "/auth/password/forgot",
        "/auth/password/reset?token=x",
        "/auth/email-code",
        "/no/such/page",
      ]);
      await photograph(page, "/", `sign-in-${width}`);
      await photograph(page, "/auth/signup", `sign-up-${width}`);
      await context.addCookies([{ name, value, url: app.url, httpOnly: true, sameSite: "Lax" }]);
      await expectNoProblems(page, width, [
        "/account",
        "/account/events",
        "/account/security",
        "/account/passkeys",
        "/auth/password/change",
      ]);
      await photograph(page, "/account", `account-${width}`);
      await photograph(page, "/account/security", `account-security-${width}`);
      await context.close();
    }
  },
  90_000,
);

browserTest(
  "a person signs another device out from the account center",
  async () => {
    const member = await signedInUser(db.pool, app.config, { isWhitelisted: true });
    const other = await createSession(db.pool, {
      userId: member.user.id,
      ttlMs: app.config.session.SESSION_TTL,
      idleTtlMs: app.config.session.SESSION_IDLE_TTL,
      ip: "203.0.113.9",
      userAgent: firefox,
    });
    const [name, value] = member.cookie.split("=") as [string, string];
    const browser = await openBrowser();
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    await context.addCookies([{ name, value, url: app.url, httpOnly: true, sameSite: "Lax" }]);
    const page = await context.newPage();
    await page.goto(`${app.url}/account`);
    await page.getByRole("button", { name: "Revoke Firefox 128 on Linux" }).click();
    await page.waitForURL(/notice=device_revoked/);
    expect(await page.getByText("That device is signed out.").isVisible()).toBe(true);
    expect(await page.getByText("Firefox 128 on Linux").count()).toBe(0);
    const revoked = await db.pool.oneFirst(
      sql.unsafe`SELECT revoked_at IS NOT NULL FROM sessions WHERE id = ${other.session.id}`,
    );
    expect(revoked).toBe(true);
  },
  60_000,
);
