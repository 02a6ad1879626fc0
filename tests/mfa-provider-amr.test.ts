import { afterAll, describe, expect, test } from "bun:test";
import { sql } from "slonik";
import { startTestApp, type TestApp } from "./support/app.ts";
import { TestBrowser } from "./support/browser.ts";
import { testKey } from "./support/cli.ts";
import { createTestDatabase } from "./support/database.ts";
import { oidcClient, startOidcIssuer } from "./support/oidc-issuer.ts";
import { base, publicHost } from "./support/sign-in-site.ts";

// A provider sign-in is a first factor: under MFA_REQUIRED=all it stops at
// the second factor, unless the issuer asserted its own (`amr` containing
// `mfa` in the ID token) and MFA_TRUST_PROVIDER_AMR=true takes its word.
// The issuer is a real oidc-provider that puts `amr` in its ID tokens.

const { pool, drop } = await createTestDatabase();
const issuer = await startOidcIssuer(`${base}/auth/oidc/callback`);
const appWith = (trust: boolean) =>
  startTestApp(pool, {
    PUBLIC_URL: base,
    OIDC_ISSUER: issuer.issuer,
    OIDC_CLIENT_ID: oidcClient.id,
    OIDC_CLIENT_SECRET: oidcClient.secret,
    TOKEN_ENCRYPTION_KEYS: testKey("k1", 3),
    MFA_REQUIRED: "all",
    MFA_TRUST_PROVIDER_AMR: String(trust),
  });
const trusting = await appWith(true);
const distrusting = await appWith(false);
afterAll(async () => {
  await trusting.close();
  await distrusting.close();
  await issuer.close();
  await drop();
});

let counter = 0;

/** Signs in at the issuer as a new person whose sign-in there used `amr`; where our callback sends the browser. */
async function providerSignIn(app: TestApp, amr: string[] | undefined) {
  const sub = `amr-${++counter}`;
  const email = `${sub}@corp.example`;
  issuer.signInAs({ sub, email, email_verified: true, name: sub }, amr ? { amr } : {});
  const browser = new TestBrowser({ [publicHost]: app.url });
  let callback = "";
  await browser.follow(`${base}/auth/oidc/login`, {
    stopAt: (url) => {
      if (url.pathname === "/auth/oidc/callback") callback = url.toString();
      return callback !== "";
    },
  });
  const landing = await browser.request(callback);
  expect(landing.status).toBe(302);
  const userId = (await pool.oneFirst(sql.unsafe`
    SELECT id FROM users WHERE email = ${email}`)) as string;
  return { browser, location: landing.headers.get("location"), userId };
}

const sessionsOf = async (userId: string) =>
  (await pool.anyFirst(sql.unsafe`
    SELECT amr FROM sessions WHERE user_id = ${userId} AND revoked_at IS NULL`)) as string[][];

describe("a provider's assertion of MFA", () => {
  test("with MFA_TRUST_PROVIDER_AMR=true, amr containing mfa completes the sign-in and the session records it", async () => {
    const { browser, location, userId } = await providerSignIn(trusting, ["pwd", "mfa"]);
    expect(location).toBe("/");
    expect(await sessionsOf(userId)).toEqual([["fed", "mfa"]]);
    const me = await browser.request(`${base}/me`, { headers: { accept: "application/json" } });
    expect(await me.json()).toMatchObject({ amr: ["fed", "mfa"] });
    const events = await pool.anyFirst(sql.unsafe`
      SELECT context->'amr' FROM audit_events
      WHERE user_id = ${userId} AND event_type = 'login.succeeded'`);
    expect(events).toEqual([["fed", "mfa"]]);
  });

  test("with MFA_TRUST_PROVIDER_AMR=true, amr without mfa stops at the second factor", async () => {
    const { browser, location, userId } = await providerSignIn(trusting, ["pwd"]);
    expect(location).toBe("/auth/mfa");
    expect(await sessionsOf(userId)).toEqual([]);
    expect((await browser.request(`${base}/auth/verify`)).status).not.toBe(200);
    const page = await browser.request(`${base}/auth/mfa`);
    expect(await page.text()).toContain('action="/auth/mfa/totp"');
  });

  test("with MFA_TRUST_PROVIDER_AMR=true, an ID token without amr stops at the second factor", async () => {
    const { location, userId } = await providerSignIn(trusting, undefined);
    expect(location).toBe("/auth/mfa");
    expect(await sessionsOf(userId)).toEqual([]);
  });

  test("by default (false), even amr containing mfa stops at the second factor", async () => {
    const { browser, location, userId } = await providerSignIn(distrusting, ["pwd", "mfa"]);
    expect(location).toBe("/auth/mfa");
    expect(await sessionsOf(userId)).toEqual([]);
    expect((await browser.request(`${base}/auth/verify`)).status).not.toBe(200);
  });
});
