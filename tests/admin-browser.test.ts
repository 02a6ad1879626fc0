import { afterAll, expect, test } from "bun:test";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { findUserById } from "../sql/users.ts";
import { freePort } from "../src/free-port.ts";
import { startTestApp } from "./support/app.ts";
import { chromiumPath, launchChromium, warnWithoutChromium } from "./support/chromium.ts";
import { createTestDatabase } from "./support/database.ts";
import { signedInUser } from "./support/sign-in.ts";

// A real browser on the admin page.
warnWithoutChromium("admin browser test");

const artifacts = join(import.meta.dir, "artifacts");

const db = await createTestDatabase();
// The browser's Origin must be PUBLIC_URL's for the CSRF check, so fix the port.
const port = await freePort();
const app = await startTestApp(db.pool, {
  PORT: String(port),
  PUBLIC_URL: `http://127.0.0.1:${port}`,
});
afterAll(async () => {
  await app.close();
  await db.drop();
});

test.skipIf(!chromiumPath)(
  "an admin approves a pending user on /admin in a real browser",
  async () => {
    const admin = await signedInUser(db.pool, app.config, { role: "admin", isWhitelisted: true });
    const pending = await signedInUser(db.pool, app.config, { fullName: "Pat Pending" });
    const [name, value] = admin.cookie.split("=") as [string, string];

    const browser = await launchChromium();
    try {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      await context.addCookies([{ name, value, url: app.url, httpOnly: true, sameSite: "Lax" }]);
      const page = await context.newPage();
      await page.goto(`${app.url}/admin`);
      const row = page.locator("tr", { hasText: "Pat Pending" }).first();
      await row.getByRole("button", { name: /approve/i }).click();
      await page.waitForURL(/notice=/);
      await expect(
        page
          .getByText(/approved/i)
          .first()
          .isVisible(),
      ).resolves.toBe(true);
      await mkdir(artifacts, { recursive: true });
      await page.screenshot({ path: join(artifacts, "admin-approve.png"), fullPage: true });
    } finally {
      await browser.close();
    }
    expect((await findUserById(db.pool, pending.user.id))?.is_whitelisted).toBe(true);
  },
  60_000,
);

test.skipIf(!chromiumPath)(
  "on a phone (390 px) the admin pages do not scroll sideways; wide tables scroll in their card",
  async () => {
    const admin = await signedInUser(db.pool, app.config, { role: "admin", isWhitelisted: true });
    const pending = await signedInUser(db.pool, app.config, {
      fullName: "Pat Phone-Width With A Rather Long Name",
    });
    const [name, value] = admin.cookie.split("=") as [string, string];
    const browser = await launchChromium();
    try {
      const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
      await context.addCookies([{ name, value, url: app.url, httpOnly: true, sameSite: "Lax" }]);
      const page = await context.newPage();
      for (const path of ["/admin", `/admin/view/users/${pending.user.id}`]) {
        await page.goto(`${app.url}${path}`);
        const widths = (await page.evaluate(
          "({ page: document.documentElement.scrollWidth, viewport: document.documentElement.clientWidth })",
        )) as { page: number; viewport: number };
        expect(`${path} ${widths.page}`).toBe(`${path} ${widths.viewport}`);
      }
      await page.goto(`${app.url}/admin`);
      await mkdir(artifacts, { recursive: true });
      await page.screenshot({ path: join(artifacts, "admin-390.png"), fullPage: true });
      // The way home and out is in the header.
      expect(await page.locator("header a", { hasText: "Home" }).count()).toBe(1);
      expect(await page.locator("header button", { hasText: "Sign out" }).count()).toBe(1);
    } finally {
      await browser.close();
    }
  },
  60_000,
);
