import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { Writable } from "node:stream";
import { sql } from "slonik";
import { z } from "zod";
import { upsertAllowlistRule } from "../sql/allowlist-rules.ts";
import { parseConfig } from "../src/config/index.ts";
import { createTokenCipher } from "../src/keys/token-encryption.ts";
import { createLogger } from "../src/logger.ts";
import { bindingOf } from "../src/providers/provider-tokens.ts";
import { startTestApp } from "./support/app.ts";
import { TestBrowser } from "./support/browser.ts";
import { testKey } from "./support/cli.ts";
import { fakeClient, gitHubUser } from "./support/fake-social-providers.ts";
import {
  accountCounts,
  base,
  expectRefusedWritingNothing,
  flowCookie,
  flowOf,
  landed,
  me,
  publicHost,
  rewriteFlow,
  startSignInSite,
} from "./support/sign-in-site.ts";

const keyA = testKey("ka", 1);
const env = {
  PUBLIC_URL: base,
  GITHUB_CLIENT_ID: fakeClient.id,
  GITHUB_CLIENT_SECRET: fakeClient.secret,
  GOOGLE_CLIENT_ID: fakeClient.id,
  GOOGLE_CLIENT_SECRET: fakeClient.secret,
  TOKEN_ENCRYPTION_KEYS: keyA,
  ADMIN_EMAILS: "Boss@Admins.example",
  ALLOWED_REDIRECT_ORIGINS: "https://app.example.test",
};
const { pool, fake, app, browser, close } = await startSignInSite(env);
const sessionCookie = "__Host-gatehouse_session";

afterEach(() => fake.reset());
afterAll(close);

const apiClient = () => browser("application/json");

const counts = () => accountCounts(pool);

/** Login → provider → callback → landing, as a browser walks it. */
function signIn(b: TestBrowser, provider: "github" | "google", redirectTo?: string) {
  const query = redirectTo === undefined ? "" : `?redirect_to=${encodeURIComponent(redirectTo)}`;
  return b.follow(`${base}/auth/${provider}/login${query}`, {
    // Follow the sign-in through the provider and stop at the landing redirect.
    stopAt: landed,
  });
}

/** A new browser signed in with `provider` as its current user: what /me then says. */
async function signedIn(provider: "github" | "google") {
  const b = browser();
  await signIn(b, provider);
  return (await me(b)).body;
}

/** Login and the provider's redirect, stopping before the callback is requested. */
async function callbackUrlFor(b: TestBrowser, provider: "github" | "google") {
  let callback = "";
  await b.follow(`${base}/auth/${provider}/login`, {
    stopAt: (url) => {
      if (url.pathname === `/auth/${provider}/callback`) callback = url.toString();
      return callback !== "";
    },
  });
  return callback;
}

async function auditTypes(userId: string) {
  return pool.anyFirst(sql.unsafe`
    SELECT event_type FROM audit_events WHERE user_id = ${userId} ORDER BY occurred_at`);
}

describe("providers", () => {
  test("GET /auth/providers lists the enabled providers only, password sign-in and email codes", async () => {
    const response = await app.request("/auth/providers");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      providers: [
        { id: "github", name: "GitHub", login_url: "/auth/github/login" },
        { id: "google", name: "Google", login_url: "/auth/google/login" },
      ],
      password: { login_url: "/auth/login", signup_url: "/auth/signup" },
      email_code: { request_url: "/auth/email-code", verify_url: "/auth/email-code/verify" },
    });
  });

  test("a provider without credentials is not enabled: its login is a 404 problem", async () => {
    const response = await app.request("/auth/discord/login");
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
  });

  test("every library provider is enabled by its <NAME>_CLIENT_ID and _SECRET", async () => {
    const names = ["DISCORD", "FACEBOOK", "LINKEDIN", "X", "TWITCH", "MSENTRA"];
    const all = await startTestApp(
      pool,
      Object.fromEntries(
        names.flatMap((n) => [
          [`${n}_CLIENT_ID`, "id"],
          [`${n}_CLIENT_SECRET`, "secret"],
        ]),
      ),
    );
    try {
      const listed = (await (await all.request("/auth/providers")).json()) as {
        providers: { id: string }[];
      };
      expect(listed.providers.map((p) => p.id)).toEqual(names.map((n) => n.toLowerCase()));
      // Each one starts a real redirect to its provider, with our callback as redirect_uri.
      for (const id of listed.providers.map((p) => p.id)) {
        const response = await all.request(`/auth/${id}/login`, { redirect: "manual" });
        expect(response.status).toBe(302);
        const location = new URL(response.headers.get("location") ?? "");
        expect(location.protocol).toBe("https:");
        expect(location.searchParams.get("redirect_uri")).toBe(
          `${all.config.http.PUBLIC_URL}/auth/${id}/callback`,
        );
        expect(location.searchParams.get("state")).toBeTruthy();
      }
    } finally {
      await all.close();
    }
  });

  test("X's login carries PKCE (S256)", async () => {
    const x = await startTestApp(pool, { X_CLIENT_ID: "id", X_CLIENT_SECRET: "secret" });
    try {
      const response = await x.request("/auth/x/login", { redirect: "manual" });
      const location = new URL(response.headers.get("location") ?? "");
      expect(location.searchParams.get("code_challenge_method")).toBe("S256");
      expect(location.searchParams.get("code_challenge")?.length).toBeGreaterThan(40);
    } finally {
      await x.close();
    }
  });
});

describe("the login redirect", () => {
  test("goes to the provider with state and a redirect_uri built from PUBLIC_URL", async () => {
    const b = browser();
    const response = await b.request(`${base}/auth/github/login?redirect_to=/after`);
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get("location") ?? "");
    expect(location.origin).toBe("https://github.com");
    expect(location.pathname).toBe("/login/oauth/authorize");
    expect(location.searchParams.get("redirect_uri")).toBe(`${base}/auth/github/callback`);
    expect(location.searchParams.get("client_id")).toBe(fakeClient.id);
    expect(location.searchParams.get("state")?.length).toBeGreaterThanOrEqual(43);
    // No org rule exists yet: GitHub is not asked for read:org.
    expect(location.searchParams.get("scope")).not.toContain("read:org");
  });

  test("sets a short-lived, HttpOnly, Secure, host-only flow cookie and nothing else", async () => {
    const response = await browser().request(`${base}/auth/google/login`);
    const cookies = response.headers.getSetCookie();
    expect(cookies).toHaveLength(1);
    const [cookie = ""] = cookies;
    expect(cookie.startsWith(`${flowCookie}=`)).toBe(true);
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("Secure");
    expect(cookie).toContain("SameSite=Lax");
    expect(cookie).toContain("Path=/");
    expect(cookie).toContain("Max-Age=600");
    expect(cookie).not.toContain("Domain");
  });
});

describe("first sign-in", () => {
  test("creates a user who is not whitelisted, with a session and stored tokens", async () => {
    const before = await counts();
    const person = gitHubUser("newcomer@somewhere.example");
    fake.signInToGitHub(person);
    const b = browser();
    const { response, hops } = await signIn(b, "github");
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe("/");
    expect(hops.map((h) => new URL(h.url).host)).toEqual([publicHost, "github.com", publicHost]);
    expect(b.cookie(publicHost, sessionCookie)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(b.cookie(publicHost, flowCookie)).toBeUndefined();

    const { status, body } = await me(b);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      email: "newcomer@somewhere.example",
      email_verified: true,
      is_whitelisted: false,
      role: "user",
      status: "active",
      full_name: person.name,
    });
    expect(body.last_login_at).toBeTruthy();
    expect(await counts()).toEqual({
      users: before.users + 1,
      accounts: before.accounts + 1,
      sessions: before.sessions + 1,
    });
    const account = await pool.one(sql.unsafe`
      SELECT provider, provider_user_id, email, email_verified, access_token
      FROM oauth_accounts WHERE user_id = ${body.id as string}`);
    expect(account).toMatchObject({
      provider: "github",
      provider_user_id: String(person.id),
      email: "newcomer@somewhere.example",
      email_verified: true,
    });
    expect(await auditTypes(body.id as string)).toEqual(["user.created", "login.succeeded"]);
  });

  test("the browser lands on redirect_to when it is a path", async () => {
    fake.signInToGitHub(gitHubUser("lander@somewhere.example"));
    const { response } = await signIn(browser(), "github", "/dashboard?tab=2");
    expect(response.headers.get("location")).toBe("/dashboard?tab=2");
  });

  test("an allowed origin is kept; any other origin lands on /", async () => {
    fake.signInToGitHub(gitHubUser("allowed@somewhere.example"));
    const allowed = await signIn(browser(), "github", "https://app.example.test/home");
    expect(allowed.response.headers.get("location")).toBe("https://app.example.test/home");
    for (const evil of [
      "https://evil.example",
      "//evil.example/x",
      "/\\evil.example",
      "javascript:alert(1)",
    ]) {
      fake.signInToGitHub(gitHubUser(`evil-${crypto.randomUUID()}@somewhere.example`));
      const { response } = await signIn(browser(), "github", evil);
      expect(response.status).toBe(302);
      expect(response.headers.get("location")).toBe("/");
    }
  });

  test("a domain allowlist rule lets the next new user straight in", async () => {
    await upsertAllowlistRule(pool, { kind: "domain", value: "team.example", createdBy: null });
    fake.signInToGitHub(gitHubUser("member@Team.example"));
    expect(await signedIn("github")).toMatchObject({
      email: "member@Team.example",
      is_whitelisted: true,
    });
  });

  test("an unverified GitHub primary email matches no rule and is not kept on the user", async () => {
    await upsertAllowlistRule(pool, { kind: "domain", value: "team.example", createdBy: null });
    fake.signInToGitHub(
      gitHubUser("claimer@team.example", {
        emails: [
          { email: "claimer@team.example", primary: true, verified: false },
          { email: "other@elsewhere.example", primary: false, verified: true },
        ],
      }),
    );
    expect(await signedIn("github")).toMatchObject({
      email: null,
      email_verified: false,
      is_whitelisted: false,
    });
  });

  test("a verified ADMIN_EMAILS address becomes a whitelisted admin", async () => {
    fake.signInToGitHub(gitHubUser("boss@admins.example"));
    expect(await signedIn("github")).toMatchObject({ role: "admin", is_whitelisted: true });
  });

  test("an unverified ADMIN_EMAILS address gets nothing", async () => {
    fake.signInToGoogle({
      id: "g-fake-boss",
      email: "boss@admins.example",
      verified_email: false,
      name: "Not the boss",
    });
    expect(await signedIn("google")).toMatchObject({
      role: "user",
      is_whitelisted: false,
      email: null,
    });
  });

  test("a GitHub organisation rule asks for read:org and lets members in", async () => {
    await upsertAllowlistRule(pool, { kind: "github_org", value: "acme", createdBy: null });
    fake.signInToGitHub(gitHubUser("dev@personal.example", { orgs: ["Acme"] }));
    const b = browser();
    await signIn(b, "github");
    expect(fake.authorizeRequests.at(-1)?.get("scope")).toContain("read:org");
    expect(fake.calls).toContain("GET api.github.com/user/orgs");
    expect((await me(b)).body).toMatchObject({ is_whitelisted: true });

    fake.signInToGitHub(gitHubUser("outsider@personal.example", { orgs: ["other"] }));
    expect(await signedIn("github")).toMatchObject({ is_whitelisted: false });
  });

  test("a GitHub team rule lets that team's members in", async () => {
    await upsertAllowlistRule(pool, {
      kind: "github_team",
      value: "widgets/core",
      createdBy: null,
    });
    fake.signInToGitHub(
      gitHubUser("core@personal.example", { teams: [{ org: "Widgets", slug: "core" }] }),
    );
    expect(await signedIn("github")).toMatchObject({ is_whitelisted: true });
  });
});

describe("returning and linking", () => {
  test("signing in again is the same user, with a new session and fresh tokens", async () => {
    const person = gitHubUser("returning@somewhere.example");
    fake.signInToGitHub(person);
    const first = browser();
    await signIn(first, "github");
    const firstMe = (await me(first)).body;
    const tokenBefore = await pool.oneFirst(sql.unsafe`
      SELECT access_token FROM oauth_accounts WHERE user_id = ${firstMe.id as string}`);
    const before = await counts();

    const second = browser();
    await signIn(second, "github");
    expect((await me(second)).body.id).toBe(firstMe.id);
    expect(second.cookie(publicHost, sessionCookie)).not.toBe(
      first.cookie(publicHost, sessionCookie),
    );
    expect(await counts()).toEqual({ ...before, sessions: before.sessions + 1 });
    const tokenAfter = await pool.oneFirst(sql.unsafe`
      SELECT access_token FROM oauth_accounts WHERE user_id = ${firstMe.id as string}`);
    expect(tokenAfter).not.toBe(tokenBefore);
  });

  test("a second provider with the same verified email links to the same user", async () => {
    fake.signInToGitHub(gitHubUser("carol@shared.example"));
    const carol = await signedIn("github");

    fake.signInToGoogle({
      id: "g-carol",
      email: "carol@shared.example",
      verified_email: true,
      name: "Carol",
    });
    expect((await signedIn("google")).id).toBe(carol.id);
    const providers = await pool.anyFirst(sql.unsafe`
      SELECT provider FROM oauth_accounts WHERE user_id = ${carol.id as string} ORDER BY provider`);
    expect(providers).toEqual(["github", "google"]);
    expect(await auditTypes(carol.id as string)).toContain("account.linked");
  });

  test("the same email unverified at the second provider does not link", async () => {
    fake.signInToGitHub(gitHubUser("dave@shared.example"));
    const dave = await signedIn("github");

    fake.signInToGoogle({
      id: "g-not-dave",
      email: "dave@shared.example",
      verified_email: false,
      name: "Mallory",
    });
    const malloryMe = await signedIn("google");
    expect(malloryMe.id).not.toBe(dave.id);
    expect(malloryMe.email).toBeNull();
    const daveProviders = await pool.anyFirst(sql.unsafe`
      SELECT provider FROM oauth_accounts WHERE user_id = ${dave.id as string}`);
    expect(daveProviders).toEqual(["github"]);
  });

  test("a deactivated user cannot sign in with a provider: 403, no session", async () => {
    const person = gitHubUser("gone@somewhere.example");
    fake.signInToGitHub(person);
    const userId = (await signedIn("github")).id as string;
    await pool.query(sql.unsafe`UPDATE users SET status = 'inactive' WHERE id = ${userId}`);
    const before = await counts();
    const api = apiClient();
    const { response } = await signIn(api, "github");
    expect(response.status).toBe(403);
    expect(await counts()).toEqual(before);
    expect(await auditTypes(userId)).toContain("login.failed");
  });
});

describe("refused sign-ins write nothing", () => {
  test("a tampered state is refused and writes no user, account or session", async () => {
    fake.signInToGitHub(gitHubUser("tamper@somewhere.example"));
    const b = apiClient();
    const callback = new URL(await callbackUrlFor(b, "github"));
    callback.searchParams.set("state", "A".repeat(43));
    const before = await counts();
    const response = await b.request(callback.toString());
    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(((await response.json()) as { title: string }).title).toBe("Sign-in expired or forged");
    expect(await counts()).toEqual(before);
    // The provider was never asked to redeem the code.
    expect(fake.calls).not.toContain("POST github.com/login/oauth/access_token");
  });

  test("a callback without the flow cookie (another browser, or a forged link) is refused", async () => {
    fake.signInToGitHub(gitHubUser("nocookie@somewhere.example"));
    const b = apiClient();
    const callback = await callbackUrlFor(b, "github");
    b.deleteCookie(publicHost, flowCookie);
    await expectRefusedWritingNothing(pool, b, callback);
  });

  test("a callback without state is refused", async () => {
    fake.signInToGitHub(gitHubUser("nostate@somewhere.example"));
    const b = apiClient();
    const callback = new URL(await callbackUrlFor(b, "github"));
    callback.searchParams.delete("state");
    await expectRefusedWritingNothing(pool, b, callback.toString());
  });

  test("a provider error callback without state or flow is refused as forged: 400, no audit row", async () => {
    const auditRows = () => pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM audit_events`);
    const before = { ...(await counts()), audit: await auditRows() };
    for (const query of [
      "?error=server_error",
      "?error=access_denied&error_description=x",
      `?error=temporarily_unavailable&state=${"A".repeat(43)}`,
    ]) {
      const response = await apiClient().request(`${base}/auth/github/callback${query}`);
      expect(response.status).toBe(400);
      expect(response.headers.get("content-type")).toBe("application/problem+json");
      expect(((await response.json()) as { title: string }).title).toBe(
        "Sign-in expired or forged",
      );
    }
    // With the flow cookie of a real start but another state, still forged.
    const b = apiClient();
    const callback = new URL(await callbackUrlFor(b, "github"));
    callback.search = `?error=server_error&state=${"B".repeat(43)}`;
    expect((await b.request(callback.toString())).status).toBe(400);
    expect({ ...(await counts()), audit: await auditRows() }).toEqual(before);
  });

  test("a replayed callback (state already used) is refused", async () => {
    fake.signInToGitHub(gitHubUser("replay@somewhere.example"));
    const b = apiClient();
    const callback = await callbackUrlFor(b, "github");
    expect((await b.request(callback)).status).toBe(302);
    await expectRefusedWritingNothing(pool, b, callback);
  });

  test("a replayed code with the flow cookie planted again is refused by the provider", async () => {
    fake.signInToGitHub(gitHubUser("code-replay@somewhere.example"));
    const b = apiClient();
    const callback = await callbackUrlFor(b, "github");
    const flow = b.cookie(publicHost, flowCookie) ?? "";
    expect((await b.request(callback)).status).toBe(302);
    const before = await counts();
    const attacker = apiClient();
    attacker.setCookie(publicHost, flowCookie, flow);
    const replay = await attacker.request(callback);
    expect(replay.status).toBe(400);
    expect(((await replay.json()) as { title: string }).title).toBe(
      "Sign-in refused by the provider",
    );
    expect(await counts()).toEqual(before);
    expect(attacker.cookie(publicHost, sessionCookie)).toBeUndefined();
  });

  test("a flow cookie kept past OAUTH_FLOW_TTL is refused", async () => {
    fake.signInToGitHub(gitHubUser("late@somewhere.example"));
    const b = apiClient();
    const callback = await callbackUrlFor(b, "github");
    rewriteFlow(b, { startedAt: Date.now() - 11 * 60_000 });
    await expectRefusedWritingNothing(pool, b, callback);
  });

  test("a flow started for one provider cannot finish at another", async () => {
    fake.signInToGitHub(gitHubUser("crossed@somewhere.example"));
    const b = apiClient();
    const callback = new URL(await callbackUrlFor(b, "github"));
    callback.pathname = "/auth/google/callback";
    await expectRefusedWritingNothing(pool, b, callback.toString());
  });

  test("denied consent: a problem for API clients, the sign-in page with a message for browsers", async () => {
    fake.denyConsent("github");
    const before = await counts();
    const api = await signIn(apiClient(), "github");
    expect(api.response.status).toBe(401);
    expect(api.response.headers.get("content-type")).toBe("application/problem+json");

    const b = browser();
    const landing = await signIn(b, "github", "/wanted");
    expect(landing.response.status).toBe(302);
    const page = new URL(landing.response.headers.get("location") ?? "", base);
    expect(page.pathname).toBe("/");
    expect(page.searchParams.get("error")).toBe("access_denied");
    expect(page.searchParams.get("redirect_to")).toBe("/wanted");
    const html = await (await b.request(page.toString())).text();
    expect(html).toContain("Sign-in cancelled");
    expect(html).toContain("/auth/github/login?redirect_to=%2Fwanted");
    expect(await counts()).toEqual(before);
    const failures = await pool.anyFirst(sql.unsafe`
      SELECT failure_reason FROM audit_events
      WHERE event_type = 'login.failed' AND failure_reason = 'access_denied'`);
    expect(failures.length).toBeGreaterThanOrEqual(2);
  });

  for (const [endpoint, kind, status] of [
    ["github.com/login/oauth/access_token", "500-html", 502],
    ["github.com/login/oauth/access_token", "garbage", 502],
    ["api.github.com/user", "garbage", 502],
    ["api.github.com/user", "500-json", 400],
    ["api.github.com/user/emails", "500-html", 502],
    ["oauth2.googleapis.com/token", "500-html", 502],
    ["www.googleapis.com/oauth2/v2/userinfo", "garbage", 502],
  ] as const) {
    test(`${endpoint} answering ${kind} is a clean ${status} problem, nothing written`, async () => {
      const provider = endpoint.includes("google") ? "google" : "github";
      if (provider === "github")
        fake.signInToGitHub(gitHubUser(`broken-${crypto.randomUUID()}@somewhere.example`));
      else {
        fake.signInToGoogle({
          id: `g-broken-${crypto.randomUUID()}`,
          email: "b@x.example",
          verified_email: true,
        });
      }
      fake.breakNext(endpoint, kind);
      const before = await counts();
      const { response } = await signIn(apiClient(), provider);
      expect(response.status).toBe(status);
      expect(response.headers.get("content-type")).toBe("application/problem+json");
      expect(await counts()).toEqual(before);
    });
  }
});

test("20 concurrent first callbacks for one identity make exactly one user and one account", async () => {
  const person = gitHubUser("crowd@somewhere.example");
  fake.signInToGitHub(person);
  const browsers = Array.from({ length: 20 }, () => apiClient());
  const callbacks = await Promise.all(browsers.map((b) => callbackUrlFor(b, "github")));
  const responses = await Promise.all(browsers.map((b, i) => b.request(callbacks[i] ?? "")));
  expect(responses.map((r) => r.status)).toEqual(Array(20).fill(302));
  const rows = await pool.one(sql.unsafe`
    SELECT (SELECT count(*)::int FROM oauth_accounts WHERE provider_user_id = ${String(person.id)}) AS accounts,
           (SELECT count(*)::int FROM users WHERE email = 'crowd@somewhere.example') AS users,
           (SELECT count(DISTINCT user_id)::int FROM sessions WHERE user_id IN
              (SELECT user_id FROM oauth_accounts WHERE provider_user_id = ${String(person.id)})) AS owners,
           (SELECT count(*)::int FROM sessions WHERE user_id IN
              (SELECT user_id FROM oauth_accounts WHERE provider_user_id = ${String(person.id)})) AS sessions`);
  expect(rows).toEqual({ accounts: 1, users: 1, owners: 1, sessions: 20 });
});

test("provider tokens are stored encrypted and still open after a new key is put in front", async () => {
  const person = gitHubUser("sealed@somewhere.example");
  fake.signInToGitHub(person);
  const userId = (await signedIn("github")).id as string;
  const { id: accountId, access_token: stored } = await pool.one(sql.type(
    z.object({ id: z.string(), access_token: z.string() }),
  )`
    SELECT id, access_token FROM oauth_accounts WHERE user_id = ${userId}`);
  const binding = bindingOf(accountId, "access_token");
  expect(stored.startsWith("v2.ka.")).toBe(true);
  expect(stored).not.toContain("gho_");

  // Rotation: a new key encrypts, the old one still decrypts.
  const keyB = testKey("kb", 2);
  const rotated = parseConfig({ TOKEN_ENCRYPTION_KEYS: `${keyB},${keyA}` }).providers
    .TOKEN_ENCRYPTION_KEYS;
  const cipher = await createTokenCipher(rotated);
  expect(await cipher.decrypt(stored, binding)).toMatch(/^gho_[0-9a-f]{32}$/);

  const rotatedApp = await startTestApp(pool, { ...env, TOKEN_ENCRYPTION_KEYS: `${keyB},${keyA}` });
  try {
    const again = new TestBrowser({ [publicHost]: rotatedApp.url });
    await signIn(again, "github");
    const resealed = (await pool.oneFirst(sql.unsafe`
      SELECT access_token FROM oauth_accounts WHERE user_id = ${userId}`)) as string;
    expect(resealed.startsWith("v2.kb.")).toBe(true);
    expect(await cipher.decrypt(resealed, binding)).toMatch(/^gho_/);
  } finally {
    await rotatedApp.close();
  }
});

test("a Google refresh token is stored encrypted", async () => {
  fake.signInToGoogle({ id: "g-refresh", email: "refresh@g.example", verified_email: true });
  const userId = (await signedIn("google")).id as string;
  const row = await pool.one(sql.type(
    z.object({ id: z.string(), refresh_token: z.string(), expires_at: z.date() }),
  )`
    SELECT id, refresh_token, expires_at FROM oauth_accounts WHERE user_id = ${userId}`);
  const cipher = await createTokenCipher(
    parseConfig({ TOKEN_ENCRYPTION_KEYS: keyA }).providers.TOKEN_ENCRYPTION_KEYS,
  );
  expect(await cipher.decrypt(row.refresh_token, bindingOf(row.id, "refresh_token"))).toMatch(
    /^1\/\//,
  );
  expect(row.expires_at).toBeInstanceOf(Date);
});

test("signing in again from a signed-in browser revokes that browser's previous session", async () => {
  fake.signInToGitHub(gitHubUser("twice@somewhere.example"));
  const b = browser();
  await signIn(b, "github");
  const firstSecret = b.cookie(publicHost, sessionCookie);
  await signIn(b, "github");
  expect(b.cookie(publicHost, sessionCookie)).not.toBe(firstSecret);
  const stale = new TestBrowser({ [publicHost]: app.url });
  stale.setCookie(publicHost, sessionCookie, firstSecret ?? "");
  expect((await me(stale)).status).toBe(401);
  expect((await me(b)).status).toBe(200);
});

test("with REQUIRE_CONSENT the first sign-in records consent_at; without it, nothing", async () => {
  fake.signInToGitHub(gitHubUser("plain@somewhere.example"));
  const plain = browser();
  await signIn(plain, "github");
  const consentOf = (id: string) =>
    pool.oneFirst(sql.unsafe`SELECT consent_at IS NOT NULL FROM users WHERE id = ${id}`);
  expect(await consentOf((await me(plain)).body.id as string)).toBe(false);

  const consenting = await startTestApp(pool, { ...env, REQUIRE_CONSENT: "true" });
  try {
    fake.signInToGitHub(gitHubUser("consenting@somewhere.example"));
    const b = new TestBrowser({ [publicHost]: consenting.url });
    await signIn(b, "github");
    expect(await consentOf((await me(b)).body.id as string)).toBe(true);
  } finally {
    await consenting.close();
  }
});

test("a redirect_to too long for the flow cookie lands on / instead of breaking the sign-in", async () => {
  fake.signInToGitHub(gitHubUser("longpath@somewhere.example"));
  const { response } = await signIn(browser(), "github", `/${"a".repeat(3000)}`);
  expect(response.status).toBe(302);
  expect(response.headers.get("location")).toBe("/");
});

test("client secrets, codes, states and provider tokens never reach the log", async () => {
  const lines: string[] = [];
  const logged = await startTestApp(
    pool,
    env,
    undefined,
    createLogger(
      "trace",
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    ),
  );
  try {
    fake.signInToGitHub(gitHubUser("quiet@somewhere.example"));
    const b = new TestBrowser({ [publicHost]: logged.url });
    const callback = new URL(await callbackUrlFor(b, "github"));
    expect((await b.request(callback.toString())).status).toBe(302);
    fake.breakNext("github.com/login/oauth/access_token", "garbage");
    const failing = new TestBrowser({ [publicHost]: logged.url }, "application/json");
    const failed = new URL(await callbackUrlFor(failing, "github"));
    expect((await failing.request(failed.toString())).status).toBe(502);

    const log = lines.join("");
    expect(log).toContain("sign-in failed");
    const secrets = [
      fakeClient.secret,
      callback.searchParams.get("code"),
      callback.searchParams.get("state"),
      failed.searchParams.get("code"),
      "gho_",
      b.cookie(publicHost, sessionCookie),
    ];
    for (const secret of secrets) expect(log).not.toContain(secret ?? "never-null");
  } finally {
    await logged.close();
  }
});

test("forward-auth after sign-in: 403 for a new user, 200 with identity headers once a rule admits them", async () => {
  const verify = (b: TestBrowser) =>
    b.request(`${base}/auth/verify?mode=401`, { headers: { accept: "application/json" } });
  fake.signInToGitHub(gitHubUser("pending@elsewhere.example"));
  const pending = browser();
  await signIn(pending, "github");
  expect((await verify(pending)).status).toBe(403);

  await upsertAllowlistRule(pool, { kind: "domain", value: "admitted.example", createdBy: null });
  fake.signInToGitHub(gitHubUser("in@admitted.example"));
  const admitted = browser();
  await signIn(admitted, "github");
  const allowed = await verify(admitted);
  expect(allowed.status).toBe(200);
  expect(allowed.headers.get("x-auth-email")).toBe("in@admitted.example");
  expect(allowed.headers.get("x-auth-role")).toBe("user");
});

describe("X (PKCE carried through the flow cookie)", () => {
  const withX = () =>
    startTestApp(pool, { ...env, X_CLIENT_ID: fakeClient.id, X_CLIENT_SECRET: fakeClient.secret });

  const xCallback = async (b: TestBrowser) => {
    let callback = "";
    await b.follow(`${base}/auth/x/login`, {
      stopAt: (url) => {
        if (url.pathname === "/auth/x/callback") callback = url.toString();
        return callback !== "";
      },
    });
    return callback;
  };

  test("a full sign-in redeems the code with the verifier of its challenge", async () => {
    const x = await withX();
    try {
      fake.signInToX({ id: "x-42", name: "Exie", username: "exie" });
      const b = new TestBrowser({ [publicHost]: x.url });
      const callback = await xCallback(b);
      const landing = await b.request(callback);
      expect(landing.status).toBe(302);
      expect((await me(b)).body).toMatchObject({ full_name: "Exie", email: null });
      expect(fake.calls).toContain("POST api.twitter.com/2/oauth2/token");
    } finally {
      await x.close();
    }
  });

  test("a flow cookie with another verifier fails at the token endpoint and writes nothing", async () => {
    const x = await withX();
    try {
      fake.signInToX({ id: "x-43", name: "Mallory", username: "mallory" });
      const b = new TestBrowser({ [publicHost]: x.url }, "application/json");
      const callback = await xCallback(b);
      expect(flowOf(b).codeVerifier?.length).toBeGreaterThan(40);
      rewriteFlow(b, { codeVerifier: "z".repeat(43) });
      await expectRefusedWritingNothing(pool, b, callback);
    } finally {
      await x.close();
    }
  });
});

test("20 concurrent first Google sign-ins for an existing user link exactly one account", async () => {
  fake.signInToGitHub(gitHubUser("linker@somewhere.example"));
  const userId = (await signedIn("github")).id as string;

  fake.signInToGoogle({
    id: "g-linker",
    email: "linker@somewhere.example",
    verified_email: true,
    name: "Linker",
  });
  const browsers = Array.from({ length: 20 }, () => apiClient());
  const callbacks = await Promise.all(browsers.map((b) => callbackUrlFor(b, "google")));
  const responses = await Promise.all(browsers.map((b, i) => b.request(callbacks[i] ?? "")));
  expect(responses.map((r) => r.status)).toEqual(Array(20).fill(302));
  const accounts = await pool.anyFirst(sql.unsafe`
    SELECT provider FROM oauth_accounts WHERE user_id = ${userId} ORDER BY provider`);
  expect(accounts).toEqual(["github", "google"]);
  const linked = await pool.oneFirst(sql.unsafe`
    SELECT count(*)::int FROM audit_events WHERE user_id = ${userId} AND event_type = 'account.linked'`);
  expect(linked).toBe(1);
});

describe("PKCE at GitHub and Google", () => {
  for (const provider of ["github", "google"] as const) {
    test(`${provider}'s login carries an S256 challenge whose verifier rides in the flow cookie`, async () => {
      const b = apiClient();
      const response = await b.request(`${base}/auth/${provider}/login`);
      const location = new URL(response.headers.get("location") ?? "");
      expect(location.searchParams.get("code_challenge_method")).toBe("S256");
      const flow = flowOf(b);
      const challenge = new Bun.CryptoHasher("sha256")
        .update(flow.codeVerifier ?? "")
        .digest("base64url");
      expect(location.searchParams.get("code_challenge")).toBe(challenge);
    });

    test(`a ${provider} flow cookie with another verifier is refused by the provider and writes nothing`, async () => {
      if (provider === "github") fake.signInToGitHub(gitHubUser("pkce-swap@somewhere.example"));
      else fake.signInToGoogle({ id: "g-pkce-swap", email: "p@x.example", verified_email: true });
      const b = apiClient();
      const callback = await callbackUrlFor(b, provider);
      rewriteFlow(b, { codeVerifier: "z".repeat(43) });
      const before = await counts();
      const response = await b.request(callback);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { title: string }).title).toBe(
        "Sign-in refused by the provider",
      );
      expect(await counts()).toEqual(before);
    });
  }
});
