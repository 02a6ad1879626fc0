import { afterAll, describe, expect, test } from "bun:test";
import { sql } from "slonik";
import { z } from "zod";
import { startTestApp } from "./support/app.ts";
import { TestBrowser } from "./support/browser.ts";
import { testKey } from "./support/cli.ts";
import { createTestDatabase } from "./support/database.ts";
import {
  oidcClient,
  oidcPostClient,
  oidcPublicClient,
  startOidcIssuer,
} from "./support/oidc-issuer.ts";
import {
  accountCounts,
  base,
  expectRefusedWritingNothing,
  flowCookie,
  me,
  publicHost,
  rewriteFlow,
} from "./support/sign-in-site.ts";

const db = await createTestDatabase();
const { pool } = db;
const issuer = await startOidcIssuer(`${base}/auth/oidc/callback`);
const app = await startTestApp(pool, {
  PUBLIC_URL: base,
  OIDC_ISSUER: issuer.issuer,
  OIDC_CLIENT_ID: oidcClient.id,
  OIDC_CLIENT_SECRET: oidcClient.secret,
  OIDC_NAME: "Company SSO",
  TOKEN_ENCRYPTION_KEYS: testKey("k1", 7),
});

afterAll(async () => {
  await app.close();
  await issuer.close();
  await db.drop();
});

const browser = (accept?: string) => new TestBrowser({ [publicHost]: app.url }, accept);

const counts = () => accountCounts(pool);

/** Walks login → issuer (login and consent) and stops before our callback. */
async function callbackUrlFor(b: TestBrowser) {
  let callback = "";
  const { hops } = await b.follow(`${base}/auth/oidc/login`, {
    stopAt: (url) => {
      if (url.pathname === "/auth/oidc/callback") callback = url.toString();
      return callback !== "";
    },
  });
  return { callback, authorize: new URL(hops[0]?.location ?? "") };
}

describe("generic OpenID Connect", () => {
  test("it is listed under OIDC_NAME", async () => {
    const listed = (await (await app.request("/auth/providers")).json()) as {
      providers: unknown[];
    };
    expect(listed.providers).toEqual([
      { id: "oidc", name: "Company SSO", login_url: "/auth/oidc/login" },
    ]);
  });

  test("a full sign-in uses PKCE (S256) and a nonce, validates the ID token and creates the user", async () => {
    issuer.signInAs({
      sub: "emp-1",
      email: "ada@corp.example",
      email_verified: true,
      name: "Ada Lovelace",
    });
    const b = browser();
    const { callback, authorize } = await callbackUrlFor(b);
    expect(authorize.origin).toBe(issuer.issuer);
    expect(authorize.searchParams.get("code_challenge_method")).toBe("S256");
    expect(authorize.searchParams.get("code_challenge")?.length).toBe(43);
    expect(authorize.searchParams.get("nonce")?.length).toBeGreaterThanOrEqual(43);
    expect(authorize.searchParams.get("redirect_uri")).toBe(`${base}/auth/oidc/callback`);
    expect(authorize.searchParams.get("scope")).toBe("openid email profile");
    expect(new URL(callback).searchParams.get("iss")).toBe(issuer.issuer);

    const landing = await b.request(callback);
    expect(landing.status).toBe(302);
    expect(landing.headers.get("location")).toBe("/");
    const me = await b.request(`${base}/me`, { headers: { accept: "application/json" } });
    expect(await me.json()).toMatchObject({
      email: "ada@corp.example",
      email_verified: true,
      full_name: "Ada Lovelace",
      is_whitelisted: false,
    });
    const account = await pool.one(
      sql.type(
        z.object({
          provider_user_id: z.string(),
          access_token: z.string(),
          email_verified: z.boolean(),
        }),
      )`SELECT provider_user_id, access_token, email_verified FROM oauth_accounts WHERE provider = 'oidc'`,
    );
    expect(account.provider_user_id).toBe("emp-1");
    expect(account.access_token.startsWith("v2.k1.")).toBe(true);
  });

  test("a nonce that does not match the ID token's is refused and writes nothing", async () => {
    issuer.signInAs({ sub: "emp-2", email: "bob@corp.example", email_verified: true, name: "Bob" });
    const b = browser("application/json");
    const { callback } = await callbackUrlFor(b);
    rewriteFlow(b, { nonce: "x".repeat(43) });
    const response = await expectRefusedWritingNothing(pool, b, callback);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
  });

  test("a wrong PKCE verifier is refused by the issuer and writes nothing", async () => {
    issuer.signInAs({ sub: "emp-3", email: "cy@corp.example", email_verified: true, name: "Cy" });
    const b = browser("application/json");
    const { callback } = await callbackUrlFor(b);
    rewriteFlow(b, { codeVerifier: "y".repeat(43) });
    await expectRefusedWritingNothing(pool, b, callback);
  });

  test("a replayed code is refused and writes nothing", async () => {
    issuer.signInAs({ sub: "emp-4", email: "di@corp.example", email_verified: true, name: "Di" });
    const b = browser("application/json");
    const { callback } = await callbackUrlFor(b);
    const flow = b.cookie(publicHost, flowCookie) ?? "";
    expect((await b.request(callback)).status).toBe(302);
    const before = await counts();
    b.setCookie(publicHost, flowCookie, flow);
    expect((await b.request(callback)).status).toBe(400);
    expect(await counts()).toEqual(before);
  });

  test("an unverified issuer email does not link to the user who owns it", async () => {
    issuer.signInAs({
      sub: "emp-5",
      email: "ada@corp.example",
      email_verified: false,
      name: "Eve",
    });
    const b = browser();
    const { callback } = await callbackUrlFor(b);
    expect((await b.request(callback)).status).toBe(302);
    const me = (await (
      await b.request(`${base}/me`, { headers: { accept: "application/json" } })
    ).json()) as { email: string | null; full_name: string };
    expect(me).toMatchObject({ email: null, full_name: "Eve" });
  });

  /** Signs `person` in through another app configured with `settings`; returns their /me. */
  async function meAfterSignInOn(
    settings: Record<string, string>,
    at: typeof issuer,
    person: Parameters<typeof issuer.signInAs>[0],
  ) {
    const other = await startTestApp(pool, {
      PUBLIC_URL: base,
      OIDC_ISSUER: at.issuer,
      TOKEN_ENCRYPTION_KEYS: testKey("k1", 7),
      ...settings,
    });
    try {
      at.signInAs(person);
      const b = new TestBrowser({ [publicHost]: other.url });
      const { callback } = await callbackUrlFor(b);
      expect((await b.request(callback)).status).toBe(302);
      return (await me(b)).body;
    } finally {
      await other.close();
    }
  }

  test("a client registered for client_secret_post signs in with OIDC_TOKEN_AUTH_METHOD", async () => {
    const person = { sub: "emp-6", email: "fay@corp.example", email_verified: true, name: "Fay" };
    const settings = {
      OIDC_CLIENT_ID: oidcPostClient.id,
      OIDC_CLIENT_SECRET: oidcPostClient.secret,
      OIDC_TOKEN_AUTH_METHOD: "client_secret_post",
    };
    expect(await meAfterSignInOn(settings, issuer, person)).toMatchObject({
      email: "fay@corp.example",
    });
  });

  test("a public client (no secret) signs in with PKCE alone", async () => {
    const person = { sub: "emp-7", email: "gus@corp.example", email_verified: true, name: "Gus" };
    expect(
      await meAfterSignInOn({ OIDC_CLIENT_ID: oidcPublicClient.id }, issuer, person),
    ).toMatchObject({ email: "gus@corp.example" });
  });

  test("an issuer that puts email and name in the ID token itself works too", async () => {
    const direct = await startOidcIssuer(`${base}/auth/oidc/callback`, { claimsInIdToken: true });
    try {
      const person = { sub: "emp-8", email: "hal@corp.example", email_verified: true, name: "Hal" };
      const settings = { OIDC_CLIENT_ID: oidcClient.id, OIDC_CLIENT_SECRET: oidcClient.secret };
      expect(await meAfterSignInOn(settings, direct, person)).toMatchObject({
        email: "hal@corp.example",
        full_name: "Hal",
      });
    } finally {
      await direct.close();
    }
  });

  test("an unreachable issuer is a 502 problem at login (the sign-in page for browsers), not a crash", async () => {
    const down = await startTestApp(pool, {
      OIDC_ISSUER: "http://127.0.0.1:9",
      OIDC_CLIENT_ID: "x",
      OIDC_CLIENT_SECRET: "y",
    });
    try {
      const response = await down.request("/auth/oidc/login", { redirect: "manual" });
      expect(response.status).toBe(502);
      expect(response.headers.get("content-type")).toBe("application/problem+json");
      const fromBrowser = await down.request("/auth/oidc/login", {
        redirect: "manual",
        headers: { accept: "text/html" },
      });
      expect(fromBrowser.status).toBe(302);
      expect(fromBrowser.headers.get("location")).toBe("/?error=provider_unavailable");
    } finally {
      await down.close();
    }
  });
});
