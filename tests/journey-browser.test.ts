import { afterAll, expect } from "bun:test";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { sql } from "slonik";
import { findUserById } from "../sql/users.ts";
import { browserTestApp, chromiumTests, signedInPage } from "./support/chromium.ts";
import { signedInUser } from "./support/sign-in.ts";
import { startTestSmtpServer, tokenFromMail } from "./support/smtp.ts";

// The whole journey in real Chromium against the real app, database and an
// SMTP server on 127.0.0.1: a newcomer signs up, confirms their address from
// the mail, waits; an administrator, in a browser of their own, approves
// them from the console's queue; the newcomer signs in, signs out another of
// their devices, downloads their data and deletes the account. The
// administrator also denies another newcomer with a reason, filters the
// audit log and backs out of a destructive action. Every page visited is
// photographed at 1280 and 390 px, light and dark, in tests/artifacts/.
const { browserTest, openBrowser } = chromiumTests("journey browser test");

const artifacts = join(import.meta.dir, "artifacts", "journey");
const smtp = await startTestSmtpServer();
const { db, app } = await browserTestApp({ SMTP_URL: smtp.url });
afterAll(async () => {
  await smtp.close();
});

let shots = 0;
/** The page as it is now, at both widths and in both colour schemes; back to 1280 light after. */
async function photograph(page: Page, name: string) {
  await mkdir(artifacts, { recursive: true });
  const file = `${String(++shots).padStart(2, "0")}-${name}`;
  for (const colorScheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme });
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 900 });
      const sideways = (await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth",
      )) as number;
      expect(`${name} @${width}: ${sideways} px sideways`).toBe(`${name} @${width}: 0 px sideways`);
      await page.screenshot({
        path: join(artifacts, `${file}-${width}-${colorScheme}.png`),
        fullPage: true,
      });
    }
  }
  await page.emulateMedia({ colorScheme: "light" });
  await page.setViewportSize({ width: 1280, height: 900 });
}

const password = "a long walk to the lighthouse 2026";

async function signIn(page: Page, email: string) {
  const form = page.locator('form[action="/auth/login"]');
  await form.getByLabel("Email").fill(email);
  await form.getByLabel("Password", { exact: true }).fill(password);
  await form.getByRole("button", { name: "Sign in", exact: true }).click();
}

browserTest(
  "a newcomer signs up, confirms, is approved, uses the account center and leaves; the admin denies, audits and backs out",
  async () => {
    const browser = await openBrowser();
    const email = `newcomer-${crypto.randomUUID().slice(0, 8)}@example.com`;
    const admin = await signedInUser(db.pool, app.config, {
      role: "admin",
      isWhitelisted: true,
      fullName: "Ada Admin",
    });
    const other = await signedInUser(db.pool, app.config, { fullName: "Dee Declined" });

    // The newcomer signs up.
    const newcomer = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await newcomer.newPage();
    await page.goto(`${app.url}/`);
    await photograph(page, "sign-in");
    await page.getByRole("link", { name: "Create an account" }).click();
    await photograph(page, "sign-up");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Name (optional)").fill("Nia Newcomer");
    await page.getByLabel("Password", { exact: true }).fill(password);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("heading", { name: "Almost there" }).waitFor();
    await photograph(page, "signed-up");

    // The mail's link: sign in there, then confirm.
    const token = tokenFromMail(await smtp.waitForMail(email), "/auth/email/verify");
    await page.goto(`${app.url}/auth/email/verify?token=${token}`);
    await photograph(page, "confirm-signed-out");
    await signIn(page, email);
    await page.getByRole("button", { name: "Confirm my email address" }).click();
    await page.getByRole("heading", { name: "Address confirmed" }).waitFor();
    await photograph(page, "address-confirmed");
    await page.getByRole("link", { name: "Continue" }).click();
    await page.getByText("waiting for an administrator's approval").waitFor();
    await photograph(page, "account-pending");

    // The administrator, in a browser of their own.
    const { page: console } = await signedInPage(browser, app.url, admin.cookie);
    await console.goto(`${app.url}/admin`);
    await photograph(console, "admin-queue");
    await console
      .locator("tr", { hasText: "Nia Newcomer" })
      .getByRole("button", { name: "Approve" })
      .click();
    await console.waitForURL(/notice=/);
    await photograph(console, "admin-approved");
    const declined = console.locator("tr", { hasText: "Dee Declined" });
    await declined.getByText("Deny…").click();
    await declined.getByLabel("Reason for denying (sent to the user)").fill("Not on the team");
    await declined.getByRole("button", { name: "Deny", exact: true }).click();
    await console.waitForURL(/notice=/);
    await photograph(console, "admin-denied");
    expect((await findUserById(db.pool, other.user.id))?.status).toBe("denied");
    expect((await smtp.waitForMail(other.user.email ?? "")).source).toContain("Not on the team");

    await console.getByRole("link", { name: "Audit log" }).click();
    await console.getByLabel("Event type").fill("signup");
    await console.getByRole("button", { name: "Filter" }).click();
    await console.waitForURL(/event_type=signup/);
    const events = console.locator("tbody tr");
    expect(await events.count()).toBe(1);
    expect(await events.first().textContent()).toContain(email);
    expect(await events.locator('td[data-label="Event"]').first().textContent()).toContain(
      "signup",
    );
    await photograph(console, "admin-audit-filtered");

    // A destructive action, backed out of: nothing changes.
    const userId = (await db.pool.oneFirst(
      sql.unsafe`SELECT id FROM users WHERE email = ${email}`,
    )) as string;
    await console.goto(`${app.url}/admin/view/users/${userId}`);
    await photograph(console, "admin-user");
    await console.getByRole("link", { name: "Deactivate…" }).click();
    await photograph(console, "admin-confirm-deactivate");
    await console.getByRole("link", { name: "Cancel" }).click();
    await console.waitForURL(`${app.url}/admin/view/users/${userId}`);
    expect((await findUserById(db.pool, userId))?.status).toBe("active");

    // The newcomer, approved, signs in again, and on another device too.
    await page.getByRole("button", { name: "Sign out" }).first().click();
    await page.getByText("You are signed out.").waitFor();
    await signIn(page, email);
    await page.getByRole("heading", { name: "Your account" }).waitFor();
    expect(await page.getByText("waiting for an administrator's approval").count()).toBe(0);
    const laptop = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const laptopPage = await laptop.newPage();
    await laptopPage.goto(`${app.url}/`);
    await signIn(laptopPage, email);
    await laptopPage.getByRole("heading", { name: "Your account" }).waitFor();
    await page.reload();
    await photograph(page, "account-approved");

    // Signs the other device out.
    const devices = page.locator("section", { hasText: "Where this account is signed in now." });
    const otherDevice = devices.locator("li", { hasNotText: "this device" });
    expect(await otherDevice.count()).toBe(1);
    await otherDevice.getByRole("button", { name: /^Revoke / }).click();
    await page.waitForURL(/notice=/);
    expect(await devices.locator("li").count()).toBe(1);
    await laptopPage.reload();
    await laptopPage.getByRole("heading", { name: "Sign in" }).waitFor();

    // Downloads their data.
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Download everything held about you (JSON)" }).click(),
    ]);
    const saved = join(artifacts, "export.json");
    await download.saveAs(saved);
    const exported = JSON.parse(await readFile(saved, "utf8"));
    expect(JSON.stringify(exported)).toContain(email);

    // Deletes the account, with the word typed.
    await page.getByLabel("Type DELETE to confirm").fill("DELETE");
    await page.getByRole("button", { name: "Delete my account" }).click();
    await page.getByText("Your account is deleted.").waitFor();
    await photograph(page, "account-deleted");
    expect((await findUserById(db.pool, userId))?.status).toBe("deleted");
  },
  240_000,
);
