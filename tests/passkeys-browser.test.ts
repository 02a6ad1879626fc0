import { afterAll, expect, test } from "bun:test";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { sql } from "slonik";
import { insertUser } from "../sql/users.ts";
import { freePort } from "../src/free-port.ts";
import { hashPassword } from "../src/password/hashing.ts";
import { startTestApp } from "./support/app.ts";
import { chromiumPath, launchChromium, warnWithoutChromium } from "./support/chromium.ts";
import { createTestDatabase } from "./support/database.ts";

// Passkeys in a real Chromium with its DevTools virtual authenticator (a
// platform authenticator that holds discoverable credentials and verifies
// the user), through the pages and their one script: register on the
// passkeys page, sign out, sign in with the passkey alone, then sign in with
// the password and give the passkey as the second factor, and remove it.
// Skipped, saying why, where no Chromium exists (.ci/run installs Debian's).
warnWithoutChromium("passkey browser test");

const artifacts = join(import.meta.dir, "artifacts");

const db = await createTestDatabase();
// WebAuthn wants a secure context and a relying party id that is a domain
// name: http://localhost is both (http://127.0.0.1 is secure but an IP
// address cannot be an RP id). The app listens on 127.0.0.1; the browser is
// told that localhost is there.
const port = await freePort();
const publicUrl = `http://localhost:${port}`;
const app = await startTestApp(db.pool, { PORT: String(port), PUBLIC_URL: publicUrl });
afterAll(async () => {
  await app.close();
  await db.drop();
});

const password = "correct horse battery staple";

async function signInWithPassword(page: Page, email: string) {
  await page.goto(`${publicUrl}/`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

async function signOut(page: Page) {
  await page.goto(`${publicUrl}/`);
  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
}

const amrOf = (page: Page) =>
  page.evaluate(async () => ((await (await fetch("/me")).json()) as { amr: string[] }).amr);

test.skipIf(!chromiumPath)(
  "a passkey registered on the page signs in alone, serves as the second factor after a password, and is removed there",
  async () => {
    const user = await insertUser(db.pool, {
      email: "pat@example.com",
      emailVerified: true,
      fullName: "Pat Passkey",
      isWhitelisted: true,
      passwordHash: await hashPassword(password, app.config.passwords),
    });
    await mkdir(artifacts, { recursive: true });
    const shot = (page: Page, name: string) =>
      page.screenshot({ path: join(artifacts, `passkeys-${name}.png`), fullPage: true });

    // WebAuthn refuses an IP address as the relying party: the app is `localhost`.
    const browser = await launchChromium(["--host-resolver-rules=MAP localhost 127.0.0.1"]);
    try {
      const context = await browser.newContext({ viewport: { width: 900, height: 800 } });
      const page = await context.newPage();
      const devtools = await context.newCDPSession(page);
      await devtools.send("WebAuthn.enable");
      const { authenticatorId } = await devtools.send("WebAuthn.addVirtualAuthenticator", {
        options: {
          protocol: "ctap2",
          transport: "internal",
          hasResidentKey: true,
          hasUserVerification: true,
          isUserVerified: true,
        },
      });

      // Register a passkey while signed in with the password.
      await signInWithPassword(page, user.email ?? "");
      await page.getByRole("heading", { name: "Your account" }).waitFor();
      await page.goto(`${publicUrl}/account/passkeys`);
      await page.getByLabel("Name for a new passkey").fill("This browser");
      await page.getByRole("button", { name: "Add a passkey" }).click();
      await page.waitForURL(/notice=added/);
      await page.getByText("This browser").waitFor();
      await shot(page, "registered");
      const { credentials } = await devtools.send("WebAuthn.getCredentials", { authenticatorId });
      expect(credentials).toHaveLength(1);
      expect(credentials[0]?.isResidentCredential).toBe(true);

      // Signed out, the passkey alone signs in.
      await signOut(page);
      await shot(page, "sign-in-page");
      await page.getByRole("button", { name: "Sign in with a passkey" }).click();
      await page.getByRole("heading", { name: "Your account" }).waitFor();
      await shot(page, "signed-in-with-passkey");
      expect(await amrOf(page)).toEqual(["hwk", "user", "mfa"]);

      // With a passkey, the password alone is not enough: the second-factor
      // page asks for the passkey, which finishes the sign-in.
      await signOut(page);
      await signInWithPassword(page, user.email ?? "");
      await page.waitForURL(/\/auth\/mfa/);
      await shot(page, "second-factor-page");
      await page.getByRole("button", { name: "Use a passkey" }).click();
      await page.getByRole("heading", { name: "Your account" }).waitFor();
      expect(await amrOf(page)).toEqual(["pwd", "hwk"]);
      // The counter stored is the authenticator's own.
      const after = await devtools.send("WebAuthn.getCredentials", { authenticatorId });
      const stored = await db.pool.oneFirst(sql.unsafe`
        SELECT counter::int FROM passkeys WHERE user_id = ${user.id}`);
      expect(stored).toBe(after.credentials[0]?.signCount ?? -1);

      // And the page removes it.
      await page.goto(`${publicUrl}/account/passkeys`);
      await page.getByRole("button", { name: "Remove" }).click();
      await page.waitForURL(/notice=removed/);
      await page.getByText("You have no passkey yet.").waitFor();
      await shot(page, "removed");
    } finally {
      await browser.close();
    }
  },
  90_000,
);
