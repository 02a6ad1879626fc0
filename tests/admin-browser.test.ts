import { expect } from "bun:test";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { insertAllowlistRule } from "../sql/allowlist-rules.ts";
import { findUserById } from "../sql/users.ts";
import { browserTestApp, chromiumTests, signedInPage } from "./support/chromium.ts";
import { signedInUser } from "./support/sign-in.ts";

// A real browser on the admin page.
const { browserTest, openBrowser } = chromiumTests("admin browser test");

const artifacts = join(import.meta.dir, "artifacts");

const { db, app } = await browserTestApp();

/** An administrator's browser on the approval queue, where a newcomer named `fullName` waits. */
async function queueWith(fullName: string) {
  const admin = await signedInUser(db.pool, app.config, { role: "admin", isWhitelisted: true });
  const pending = await signedInUser(db.pool, app.config, { fullName });
  const { page } = await signedInPage(await openBrowser(), app.url, admin.cookie, 1280);
  await page.goto(`${app.url}/admin`);
  return { pending, page, row: page.locator("tr", { hasText: fullName }) };
}

browserTest(
  "an admin approves a pending user on /admin in a real browser",
  async () => {
    const { pending, page, row } = await queueWith("Pat Pending");
    await row
      .first()
      .getByRole("button", { name: /approve/i })
      .click();
    await page.waitForURL(/notice=/);
    await expect(
      page
        .getByText(/approved/i)
        .first()
        .isVisible(),
    ).resolves.toBe(true);
    await mkdir(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, "admin-approve.png"), fullPage: true });
    expect((await findUserById(db.pool, pending.user.id))?.is_whitelisted).toBe(true);
  },
  60_000,
);

/** Expressions evaluated in the page (strings: no DOM types in the tests' TypeScript). */
const inPage = {
  widths:
    "({ page: document.documentElement.scrollWidth, viewport: document.documentElement.clientWidth })",
  h1s: "document.querySelectorAll('h1').length",
  // Every visible control has a name: a label (or aria-label) for fields, text for buttons.
  unlabelled: `[...document.querySelectorAll('input:not([type=hidden]), select, textarea, button, summary')]
    .filter((el) => el.getClientRects().length > 0)
    .filter((el) => ['BUTTON', 'SUMMARY'].includes(el.tagName)
      ? !el.textContent.trim()
      : !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
    .map((el) => el.outerHTML.slice(0, 80))`,
  // No two buttons closer than 4 px: each reads as its own target.
  touching: `(() => {
    const boxes = [...document.querySelectorAll('button, a.button, summary')]
      .map((el) => ({ text: el.textContent.trim(), r: el.getBoundingClientRect() }))
      .filter((b) => b.r.width > 0 && b.r.height > 0);
    const close = [];
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i].r, b = boxes[j].r;
        const dx = Math.max(b.left - a.right, a.left - b.right);
        const dy = Math.max(b.top - a.bottom, a.top - b.bottom);
        if (Math.max(dx, dy) < 4) close.push(boxes[i].text + ' | ' + boxes[j].text);
      }
    return close;
  })()`,
};

browserTest(
  "every admin screen at 1280 and 390 px: one h1, every control labelled, no buttons touching, no sideways scroll",
  async () => {
    const admin = await signedInUser(db.pool, app.config, {
      role: "admin",
      isWhitelisted: true,
      fullName: "Ada Admin",
    });
    const pending = await signedInUser(db.pool, app.config, {
      fullName: "Pat Phone-Width With A Rather Long Name",
      emailVerified: false,
    });
    const rule = await insertAllowlistRule(db.pool, {
      kind: "email",
      value: "someone.with.a.long.address@a-rather-long-domain.example.com",
      createdBy: admin.user.id,
    });
    const screens = {
      queue: "/admin",
      users: "/admin/view/users",
      user: `/admin/view/users/${pending.user.id}`,
      audit: "/admin/view/audit",
      allowlist: "/admin/view/allowlist",
      confirm: `/admin/view/users/${pending.user.id}/confirm/delete`,
      "rule-confirm": `/admin/view/allowlist/${rule?.id}/delete`,
    };
    const browser = await openBrowser();
    await mkdir(artifacts, { recursive: true });
    for (const width of [1280, 390]) {
      const { context, page } = await signedInPage(browser, app.url, admin.cookie, width);
      for (const [screen, path] of Object.entries(screens)) {
        const response = await page.goto(`${app.url}${path}`);
        expect(`${screen} ${response?.status()}`).toBe(`${screen} 200`);
        // The Deny form's field is checked too, unfolded.
        if (screen === "queue") await page.locator("details.deny summary").first().click();
        const widths = (await page.evaluate(inPage.widths)) as { page: number; viewport: number };
        expect(`${screen}@${width} ${widths.page}`).toBe(`${screen}@${width} ${widths.viewport}`);
        expect(`${screen} h1s: ${await page.evaluate(inPage.h1s)}`).toBe(`${screen} h1s: 1`);
        expect(await page.evaluate(inPage.unlabelled)).toEqual([]);
        expect(await page.evaluate(inPage.touching)).toEqual([]);
        await page.screenshot({
          path: join(artifacts, `admin-${screen}-${width}.png`),
          fullPage: true,
        });
      }
      // The header names the administrator and offers the way out.
      await page.goto(`${app.url}/admin`);
      expect(await page.locator("header", { hasText: "Signed in as Ada Admin" }).count()).toBe(1);
      expect(await page.locator("header button", { hasText: "Sign out" }).count()).toBe(1);
      await context.close();
    }
  },
  120_000,
);

browserTest(
  "a deletion asks first: Cancel keeps the account, the confirmation's button deletes it",
  async () => {
    const admin = await signedInUser(db.pool, app.config, { role: "admin", isWhitelisted: true });
    const target = await signedInUser(db.pool, app.config, { isWhitelisted: true });
    const browser = await openBrowser();
    const { page } = await signedInPage(browser, app.url, admin.cookie, 390);
    await page.goto(`${app.url}/admin/view/users/${target.user.id}`);
    await page.getByRole("link", { name: "Delete account…" }).click();
    await page.waitForURL(/\/confirm\/delete$/);
    await page.getByRole("link", { name: "Cancel" }).click();
    await page.waitForURL(new RegExp(`/admin/view/users/${target.user.id}$`));
    expect((await findUserById(db.pool, target.user.id))?.status).toBe("active");

    await page.getByRole("link", { name: "Delete account…" }).click();
    await page.getByRole("button", { name: "Delete account" }).click();
    await page.waitForURL(/notice=delete/);
    expect(await page.getByText("Account deleted.").isVisible()).toBe(true);
    expect((await findUserById(db.pool, target.user.id))?.status).toBe("deleted");
  },
  60_000,
);

browserTest(
  "an admin denies a newcomer from the queue with a reason typed into Deny's own field",
  async () => {
    const { pending, page, row } = await queueWith("Dana Denied");
    await row.locator("summary", { hasText: "Deny" }).click();
    await row.getByLabel("Reason for denying (sent to the user)").fill("Not on the team.");
    await row.getByRole("button", { name: "Deny", exact: true }).click();
    await page.waitForURL(/notice=deny/);
    expect((await findUserById(db.pool, pending.user.id))?.status).toBe("denied");
  },
  60_000,
);
