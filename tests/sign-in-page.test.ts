import { describe, expect, test } from "bun:test";
import { sql } from "slonik";
import { appTestSetup } from "./support/app.ts";
import { signedInUser } from "./support/sign-in.ts";

const publicUrl = "https://auth.example.test";
const { db, app } = await appTestSetup({
  PUBLIC_URL: publicUrl,
  GITHUB_CLIENT_ID: "id",
  GITHUB_CLIENT_SECRET: "secret",
  OIDC_ISSUER: "https://idp.example.test",
  OIDC_CLIENT_ID: "id",
  OIDC_NAME: "Acme SSO",
  REQUIRE_CONSENT: "true",
});
const { pool } = db;

const page = async (path: string, cookie?: string) => {
  const response = await app.request(path, { headers: cookie ? { cookie } : {} });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("text/html");
  return response.text();
};

describe("the sign-in page", () => {
  test("each provider button carries the provider's mark, hidden from screen readers", async () => {
    const html = await page("/");
    const buttons = [
      ...html.matchAll(/<a class="button" href="\/auth\/(\w+)\/login"[^>]*>(.*?)<\/a>/gs),
    ];
    expect(buttons.map((b) => b[1])).toEqual(["github", "oidc"]);
    for (const [, , inner] of buttons) {
      expect(inner).toMatch(/<svg class="mark"[^>]*aria-hidden="true"/);
      expect(inner).toContain('fill="currentColor"');
    }
  });

  test("lists a button per enabled provider, and works without JavaScript", async () => {
    const html = await page("/");
    expect(html).toContain('href="/auth/github/login"');
    expect(html).toContain("Continue with GitHub");
    expect(html).toContain('href="/auth/oidc/login"');
    expect(html).toContain("Continue with Acme SSO");
    expect(html).not.toContain("google");
    expect(html).toContain("records your consent");
    // The only scripts are our own passkey files and the password field's
    // show/hide; their buttons are hidden until the scripts run, and the forms need none.
    expect([...html.matchAll(/<script[^>]*>/g)].map((m) => m[0])).toEqual([
      '<script src="/assets/simplewebauthn-browser.js" defer="">',
      '<script src="/assets/passkey-ceremonies.js" defer="">',
      '<script src="/assets/password-toggle.js" defer="">',
    ]);
    expect(html).toMatch(
      /<button type="button" data-password-toggle="true" aria-controls="password"/,
    );
    expect(html).toMatch(/<div data-passkey-ceremony="sign-in" data-redirect-to="\/" hidden/);
    expect(html).toContain('<form method="post" action="/auth/login">');
  });

  test("passes a safe redirect_to through to every provider button", async () => {
    const html = await page("/?redirect_to=%2Fadmin%3Fx%3D1");
    expect(html).toContain('href="/auth/github/login?redirect_to=%2Fadmin%3Fx%3D1"');
    const evil = await page("/?redirect_to=https%3A%2F%2Fevil.example");
    expect(evil).not.toContain("evil.example");
    expect(evil).toContain('href="/auth/github/login"');
  });

  test("shows the failed callback's message, and never reflects arbitrary text", async () => {
    expect(await page("/?error=bad_state")).toContain("Sign-in expired or forged");
    const forged = await page("/?error=%3Cscript%3Ealert(1)%3C%2Fscript%3E");
    expect(forged).not.toContain("alert(1)");
    expect(forged).not.toContain('class="error"');
  });

  test("signed in, the home page is the account center", async () => {
    const { cookie } = await signedInUser(pool, app.config, { isWhitelisted: true });
    const response = await app.request("/?redirect_to=%2Fapp", {
      headers: { cookie },
      redirect: "manual",
    });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/account?redirect_to=%2Fapp");
  });

  test("the page explains an expired session and a denied account in words", async () => {
    expect(await page("/?error=expired")).toContain("Your session has ended or expired.");
    expect(await page("/?error=account_denied")).toContain("An administrator denied this account");
  });

  test("after signing out the page says so", async () => {
    expect(await page("/?notice=signed_out")).toContain("You are signed out.");
    expect(await page("/?notice=toString")).not.toContain('class="notice"');
  });

  test("a signed-in user awaiting approval is told so, with a sign-out button", async () => {
    const { cookie } = await signedInUser(pool, app.config, { fullName: "Pat Pending" });
    const html = await page("/", cookie);
    expect(html).toContain("Pat Pending");
    expect(html).toContain("waiting for an administrator");
    expect(html).toContain('action="/sign-out"');
    expect(html).not.toContain("Continue with GitHub");
  });

  test("an approved user is offered to continue to redirect_to", async () => {
    const { cookie } = await signedInUser(pool, app.config, { isWhitelisted: true });
    const html = await page("/?redirect_to=%2Fapp", cookie);
    expect(html).toContain('href="/app"');
    expect(html).not.toContain("waiting for an administrator");
  });

  test("the sign-out button revokes the session and returns to the page", async () => {
    const { cookie, sessionId } = await signedInUser(pool, app.config);
    const response = await app.request("/sign-out", {
      method: "POST",
      headers: { cookie, origin: publicUrl },
      redirect: "manual",
    });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/?notice=signed_out");
    expect(response.headers.getSetCookie().join()).toContain("Max-Age=0");
    const revoked = await pool.oneFirst(
      sql.unsafe`SELECT revoked_at IS NOT NULL FROM sessions WHERE id = ${sessionId}`,
    );
    expect(revoked).toBe(true);
  });

  test("a cross-site sign-out is refused and the session survives", async () => {
    const { cookie, sessionId } = await signedInUser(pool, app.config);
    const response = await app.request("/sign-out", {
      method: "POST",
      headers: {
        cookie,
        origin: "https://evil.example",
        "content-type": "application/x-www-form-urlencoded",
      },
      redirect: "manual",
    });
    expect(response.status).toBe(403);
    const revoked = await pool.oneFirst(
      sql.unsafe`SELECT revoked_at IS NOT NULL FROM sessions WHERE id = ${sessionId}`,
    );
    expect(revoked).toBe(false);
  });
});
