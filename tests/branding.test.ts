import { expect, test } from "bun:test";
import { contrast, inkOn, textOn } from "../src/pages/branding.tsx";
import { themeSurfaces } from "../src/pages/site-css.ts";
import { startMailingApp } from "./support/mailing-app.ts";
import { jsonSender } from "./support/requests.ts";
import { knownPassword, signedInUser } from "./support/sign-in.ts";

// The operator's branding on every page and in every mail: APP_NAME,
// APP_LOGO_URL, APP_ACCENT_COLOR and SUPPORT_URL, with a real SMTP server
// receiving the mail.

const branding = {
  APP_NAME: "Acme Login",
  APP_LOGO_URL: "https://cdn.example.com/acme.svg",
  APP_ACCENT_COLOR: "#5b21b6",
  SUPPORT_URL: "https://help.example.com/login",
};
const { pool, smtp, app } = await startMailingApp(branding);
const send = jsonSender(app);

const html = async (path: string, cookie?: string) =>
  (
    await app.request(path, { headers: { accept: "text/html", ...(cookie ? { cookie } : {}) } })
  ).text();

test("every page carries the name in its title, the logo in its header, the accent and the support link", async () => {
  const admin = await signedInUser(pool, app.config, { role: "admin", isWhitelisted: true });
  const pages = {
    "/": await html("/"),
    "/auth/signup": await html("/auth/signup"),
    "/admin": await html("/admin", admin.cookie),
  };
  for (const [path, page] of Object.entries(pages)) {
    expect(`${path}: ${/<title>([^<]*)<\/title>/.exec(page)?.[1]}`).toEndWith(" · Acme Login");
    expect(page).toContain('<img src="https://cdn.example.com/acme.svg" alt="" height="28"/>');
    expect(page).toContain("--accent:#5b21b6;--accent-text:#ffffff");
    expect(page).toContain('<a href="https://help.example.com/login">Help and support</a>');
    expect(page).toContain('<link rel="icon" href="https://cdn.example.com/acme.svg"/>');
    expect(page).not.toContain("Gatehouse");
  }
});

test("primary buttons take the accent colour from the CSS variable", async () => {
  for (const page of [await html("/"), await html("/auth/signup")]) {
    expect(page).toMatch(/background:var\(--accent\)/);
  }
});

test("/favicon.ico answers an icon in the accent colour, so browsers log no 404", async () => {
  const response = await app.request("/favicon.ico");
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe("image/svg+xml");
  expect(await response.text()).toContain('fill="#5b21b6"');
});

test("mail names the product and links to support, in text and HTML", async () => {
  const email = `branded-${crypto.randomUUID().slice(0, 8)}@example.com`;
  expect(
    (await send("POST", "/auth/signup", null, { email, password: knownPassword })).status,
  ).toBe(201);
  const mail = await smtp.waitForMail(email, /Confirm your email address/);
  const source = mail.source.replace(/\r?\n/g, "");
  expect(source).toContain("created an account on Acme Login");
  expect(source).toContain("Help and support: https://help.example.com/login");
  expect(source).toContain('<a href="https://help.example.com/login">Help and support</a>');
  expect(source).not.toContain("Gatehouse account");
});

test("the text on the accent is white unless the accent is too light for it", () => {
  expect(textOn("#1f883d")).toBe("#ffffff");
  expect(textOn("#5b21b6")).toBe("#ffffff");
  expect(textOn("#ffd33d")).toBe("#000000");
  expect(textOn("#fff")).toBe("#000000");
});

test("links in the accent read on both themes: a dark accent is lightened for the dark theme, a light one darkened for the light", () => {
  for (const accent of ["#1f883d", "#5b21b6", "#ffd33d", "#000000", "#ffffff", "#0969da"]) {
    const light = inkOn(accent, themeSurfaces.light, "black");
    const dark = inkOn(accent, themeSurfaces.dark, "white");
    for (const surface of themeSurfaces.light)
      expect(contrast(light, surface)).toBeGreaterThanOrEqual(4.5);
    for (const surface of themeSurfaces.dark)
      expect(contrast(dark, surface)).toBeGreaterThanOrEqual(4.5);
  }
  expect(inkOn("#5b21b6", themeSurfaces.light, "black")).toBe("#5b21b6");
  expect(inkOn("#5b21b6", themeSurfaces.dark, "white")).not.toBe("#5b21b6");
});

test("every page says which colour scheme it supports, and carries the dark theme", async () => {
  for (const page of [await html("/"), await html("/auth/signup")]) {
    expect(page).toContain('<meta name="color-scheme" content="light dark"/>');
    expect(page).toContain("@media (prefers-color-scheme:dark)");
    expect(page).toMatch(/--accent-ink:#[0-9a-f]{6};--accent-ink-dark:#[0-9a-f]{6}/);
  }
  // The API reference keeps Swagger UI's own stylesheet; its dark theme inverts it.
  const docs = await html("/docs");
  expect(docs).toContain('<meta name="color-scheme" content="light dark"/>');
  expect(docs).toContain("@media (prefers-color-scheme:dark)");
});
