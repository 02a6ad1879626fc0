import { expect } from "bun:test";
import { sql } from "slonik";
import { z } from "zod";
import type { DatabasePool } from "../../src/db/pool.ts";
import { startTestApp } from "./app.ts";
import { TestBrowser } from "./browser.ts";
import { createTestDatabase } from "./database.ts";
import { fakeClient, startFakeSocialProviders } from "./fake-social-providers.ts";
import { routeHostsTo, socialProviderHosts } from "./provider-routing.ts";

// The app as the sign-in tests see it: it believes it is
// https://auth.example.test (PUBLIC_URL) while it listens on 127.0.0.1, so
// redirect URIs must come from the former, and the social providers' hosts
// are answered by the fake providers, GitHub configured.

export const publicHost = "auth.example.test";
export const base = `https://${publicHost}`;

/** Where a provider sign-in walk stops: past our /auth/ pages and the providers, at the landing. */
export const landed = (url: URL) =>
  !(url.host === publicHost && url.pathname.startsWith("/auth/")) &&
  !(socialProviderHosts as readonly string[]).includes(url.host);

/** A test database, the fake providers and the app; `env` adds to or overrides the configuration. */
export async function startSignInSite(env: Record<string, string> = {}) {
  const db = await createTestDatabase();
  const fake = await startFakeSocialProviders();
  const unroute = routeHostsTo(fake.origin, socialProviderHosts);
  const app = await startTestApp(db.pool, {
    PUBLIC_URL: base,
    GITHUB_CLIENT_ID: fakeClient.id,
    GITHUB_CLIENT_SECRET: fakeClient.secret,
    ...env,
  });
  /** A browser (or, asking for JSON, an API client) that reaches the app by its public name. */
  const browser = (accept?: string) => new TestBrowser({ [publicHost]: app.url }, accept);
  return {
    pool: db.pool,
    fake,
    app,
    browser,
    /** A fresh browser walks GitHub's sign-in as `person`: login → provider → callback → landing. */
    signInWithGitHub: async (person: Parameters<typeof fake.signInToGitHub>[0]) => {
      fake.signInToGitHub(person);
      const b = browser();
      await b.follow(`${base}/auth/github/login`, { stopAt: landed });
      return b;
    },
    close: async () => {
      unroute();
      await app.close();
      fake.close();
      await db.drop();
    },
  };
}

/** GET /me in the browser's session, as JSON. */
export async function me(b: TestBrowser) {
  const response = await b.request(`${base}/me`, { headers: { accept: "application/json" } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** How many users, provider accounts and sessions the database holds. */
export async function accountCounts(pool: DatabasePool) {
  return pool.one(sql.type(
    z.object({ users: z.number(), accounts: z.number(), sessions: z.number() }),
  )`
    SELECT (SELECT count(*)::int FROM users) AS users,
           (SELECT count(*)::int FROM oauth_accounts) AS accounts,
           (SELECT count(*)::int FROM sessions) AS sessions`);
}

/** `url`, asked for by `b`, is refused (a 400) and adds no user, account or session: the answer. */
export async function expectRefusedWritingNothing(
  pool: DatabasePool,
  b: TestBrowser,
  url: string,
): Promise<Response> {
  const before = await accountCounts(pool);
  const response = await b.request(url);
  expect(response.status).toBe(400);
  expect(await accountCounts(pool)).toEqual(before);
  return response;
}

/** The provider flow's cookie (state, nonce, PKCE verifier, start time) as the browser holds it. */
export const flowCookie = "__Host-gatehouse_oauth";

type Flow = { state?: string; nonce?: string; codeVerifier?: string; startedAt?: number };

export function flowOf(b: TestBrowser): Flow {
  return JSON.parse(Buffer.from(b.cookie(publicHost, flowCookie) ?? "", "base64url").toString());
}

/** Rewrites fields of the browser's flow cookie, as someone tampering with it would. */
export function rewriteFlow(b: TestBrowser, fields: Flow) {
  const flow = { ...flowOf(b), ...fields };
  b.setCookie(publicHost, flowCookie, Buffer.from(JSON.stringify(flow)).toString("base64url"));
}
