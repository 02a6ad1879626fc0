import { expect } from "bun:test";
import AxeBuilder from "@axe-core/playwright";
import { browserTestApp, chromiumTests, signedInPage } from "./support/chromium.ts";
import { signedInUser } from "./support/sign-in.ts";

// An operator's accent colour, however light or dark, keeps the pages
// readable in both colour schemes: axe-core's color-contrast rule passes on
// the sign-in page and the account center (buttons in the accent, links in
// its readable variant) in real Chromium.
const { browserTest, openBrowser } = chromiumTests("accent contrast browser test");

// A pale yellow (unreadable as text on white) and a dark navy (unreadable on black).
const accents = ["#ffd33d", "#1a1a6e"] as const;
const apps = await Promise.all(
  accents.map((accent) => browserTestApp({ APP_ACCENT_COLOR: accent })),
);

accents.forEach((accent, i) => {
  browserTest(
    `with the accent ${accent}, the sign-in page and the account center pass color-contrast in light and dark`,
    async () => {
      const browser = await openBrowser();
      const { db, app } = apps[i] as (typeof apps)[number];
      const member = await signedInUser(db.pool, app.config, { isWhitelisted: true });
      const found: string[] = [];
      for (const colorScheme of ["light", "dark"] as const) {
        for (const [path, cookie] of [
          ["/", null],
          ["/account", member.cookie],
        ] as const) {
          const { context, page } = cookie
            ? await signedInPage(browser, app.url, cookie)
            : await (async () => {
                const context = await browser.newContext();
                return { context, page: await context.newPage() };
              })();
          await page.emulateMedia({ colorScheme });
          await page.goto(`${app.url}${path}`);
          await page.waitForLoadState("networkidle");
          const results = await new AxeBuilder({ page }).withRules(["color-contrast"]).analyze();
          for (const v of results.violations) {
            found.push(
              `${path} ${colorScheme}: ${v.nodes.map((n) => n.target.join(" ")).join("; ")}`,
            );
          }
          await context.close();
        }
      }
      expect(found).toEqual([]);
    },
    90_000,
  );
});
