import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

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
