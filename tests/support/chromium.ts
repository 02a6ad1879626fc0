import { afterAll, test } from "bun:test";
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";
import { selfAddressedAppSetup } from "./app.ts";

// Debian's Chromium, driven by playwright-core (which downloads no browser of
// its own). .ci/run installs it when it can; without it the browser tests
// skip themselves and say why.

export const chromiumPath = [
  process.env.CHROMIUM_PATH,
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
]
  .filter((p): p is string => Boolean(p))
  .find((p) => existsSync(p));

/** Warns once per test file that its browser tests are skipped. */
export function warnWithoutChromium(what: string): void {
  if (!chromiumPath) {
    console.warn(`${what} skipped: no Chromium (apt-get install chromium, or set CHROMIUM_PATH)`);
  }
}

/** Headless Chromium without its background traffic; `extraArgs` add switches. */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      ...extraArgs,
    ],
  });
}

/**
 * A file's browser tests: `browserTest` runs a test only where there is a
 * Chromium (the file says once when there is none), and `openBrowser()` is
 * the file's one Chromium, launched when first asked for and closed after
 * the file's tests.
 */
export function chromiumTests(what: string) {
  warnWithoutChromium(what);
  let launched: Promise<Browser> | undefined;
  afterAll(async () => {
    await (await launched)?.close();
  });
  return {
    browserTest: test.skipIf(!chromiumPath),
    openBrowser: () => {
      launched ??= launchChromium();
      return launched;
    },
  };
}

/** An app for a browser test (its Origin passes the CSRF check). */
export const browserTestApp = selfAddressedAppSetup;

/** A page of a browser holding the session `cookie` for `url`, `width` pixels wide. */
export async function signedInPage(browser: Browser, url: string, cookie: string, width = 1280) {
  const [name, value] = cookie.split("=") as [string, string];
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  await context.addCookies([{ name, value, url, httpOnly: true, sameSite: "Lax" }]);
  return { context, page: await context.newPage() };
}
