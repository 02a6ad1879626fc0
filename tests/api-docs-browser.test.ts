import { expect } from "bun:test";
import { browserTestApp, chromiumTests } from "./support/chromium.ts";
import { signedInUser } from "./support/sign-in.ts";

// /docs in real Chromium: Swagger UI, served by Gatehouse itself, renders
// the document and "Try it out" calls the API with the page's session.
const { browserTest, openBrowser } = chromiumTests("API docs browser tests");

const { db, app } = await browserTestApp();

browserTest(
  "/docs renders every operation interactively, fetching nothing from another origin",
  async () => {
    const browser = await openBrowser();
    const page = await browser.newPage();
    const elsewhere: string[] = [];
    page.on("request", (request) => {
      if (!request.url().startsWith(app.url)) elsewhere.push(request.url());
    });
    await page.goto(`${app.url}/docs`);
    await page.waitForSelector(".swagger-ui .opblock-summary", { timeout: 20_000 });
    const operations = await page.locator(".swagger-ui .opblock").count();
    const document = (await (await fetch(`${app.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const documented = Object.values(document.paths).flatMap((p) => Object.keys(p)).length;
    expect(operations).toBe(documented);
    const tagOrder = await page.locator(".swagger-ui .opblock-tag").allTextContents();
    expect(tagOrder[0]).toStartWith("auth");
    expect(elsewhere).toEqual([]);
  },
);

browserTest("Try it out on /docs calls the API with the browser's session", async () => {
  const browser = await openBrowser();
  const member = await signedInUser(db.pool, app.config, { isWhitelisted: true });
  const context = await browser.newContext();
  const [name, value] = member.cookie.split("=") as [string, string];
  await context.addCookies([{ name, value, url: app.url, httpOnly: true, sameSite: "Lax" }]);
  const page = await context.newPage();
  await page.goto(`${app.url}/docs#/account/getMe`);
  const operation = page.locator("#operations-account-getMe");
  await operation.locator(".try-out__btn").click();
  await operation.locator(".execute").click();
  const status = operation.locator(".live-responses-table .response .response-col_status");
  await status.first().waitFor({ timeout: 20_000 });
  expect((await status.first().textContent())?.trim()).toBe("200");
  expect(await operation.locator(".live-responses-table").textContent()).toContain(member.user.id);
  await context.close();
});
