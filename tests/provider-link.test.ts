import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { sql } from "slonik";
import type { NewUser } from "../sql/users.ts";
import { sessionCookieName } from "../src/http/session-cookie.ts";
import type { TestBrowser } from "./support/browser.ts";
import { testKey } from "./support/cli.ts";
import { gitHubUser } from "./support/fake-social-providers.ts";
import { signedInUser } from "./support/sign-in.ts";
import { base, flowCookie, landed, publicHost, startSignInSite } from "./support/sign-in-site.ts";

// Linking another provider on purpose, from the account page: a signed-in
// person with a recent sign-in walks the provider's flow, and the identity
// it returns joins their account, never someone else's.

const { pool, fake, app, browser, signInWithGitHub, close } = await startSignInSite({
  TOKEN_ENCRYPTION_KEYS: testKey("kl", 1),
});
afterEach(() => fake.reset());
afterAll(close);

/** A browser signed in as a new approved member (password account). */
async function memberBrowser(user: Partial<NewUser> = {}) {
  const member = await signedInUser(pool, app.config, { isWhitelisted: true, ...user });
  const b = browser();
  b.setCookie(publicHost, sessionCookieName(app.config), member.cookie.split("=")[1] as string);
  return { ...member, b };
}

const startLink = (b: TestBrowser, provider = "github", origin = base) =>
  b.request(`${base}/account/providers/${provider}/link`, {
    method: "POST",
    headers: { origin, "content-type": "application/x-www-form-urlencoded" },
    body: "",
  });

/** From the link form to where the browser lands back at the account page. */
async function linkThrough(b: TestBrowser) {
  const started = await startLink(b);
  expect(started.status).toBe(303);
  const { hops } = await b.follow(started.headers.get("location") ?? "", { stopAt: landed });
  return hops.at(-1)?.location ?? "";
}

/** Starts a link and walks the provider, stopping before the callback is requested. */
async function callbackOf(b: TestBrowser) {
  const started = await startLink(b);
  let callback = "";
  await b.follow(started.headers.get("location") ?? "", {
    stopAt: (url) => {
      if (url.pathname === "/auth/github/callback") callback = url.toString();
      return callback !== "";
    },
  });
  return callback;
}

const linkedProviders = (userId: string) =>
  pool.anyFirst(sql.unsafe`SELECT provider FROM oauth_accounts WHERE user_id = ${userId}`);

describe("linking another provider", () => {
  test("the account page offers Link GitHub while the sign-in is recent", async () => {
    const { b } = await memberBrowser();
    const html = await (await b.request(`${base}/account`)).text();
    expect(html).toContain(`action="/account/providers/github/link"`);
  });

  test("a member links GitHub and the account page says so", async () => {
    const { user, b } = await memberBrowser();
    fake.signInToGitHub(gitHubUser("someone-else@example.com"));
    expect(await linkThrough(b)).toBe("/account?notice=linked");
    expect(await linkedProviders(user.id)).toEqual(["github"]);
    const events = await pool.anyFirst(sql.unsafe`
      SELECT context->>'explicit' FROM audit_events
      WHERE user_id = ${user.id} AND event_type = 'account.linked'`);
    expect(events).toEqual(["true"]);
    const html = await (await b.request(`${base}/account?notice=linked`)).text();
    expect(html).toContain("Provider linked");
    expect(html).toContain("<strong>GitHub</strong>");
  });

  test("a GitHub account that is someone else's stays theirs", async () => {
    const person = gitHubUser("owner@example.com");
    await signInWithGitHub(person);
    const { user, b } = await memberBrowser();
    fake.signInToGitHub(person);
    expect(await linkThrough(b)).toBe("/account?error=link_taken");
    expect(await linkedProviders(user.id)).toEqual([]);
    const html = await (await b.request(`${base}/account?error=link_taken`)).text();
    expect(html).toContain("already linked to another account");
  });

  test("an old sign-in is sent to confirm it is you, and no flow starts", async () => {
    const { user, b } = await memberBrowser();
    await pool.query(sql.unsafe`
      UPDATE sessions SET authenticated_at = now() - interval '1 hour' WHERE user_id = ${user.id}`);
    const refused = await startLink(b);
    expect(refused.status).toBe(303);
    expect(refused.headers.get("location")).toBe("/account?error=reauth_required");
    expect(b.cookie(publicHost, flowCookie)).toBeUndefined();
    const html = await (await b.request(`${base}/account`)).text();
    expect(html).not.toContain(`action="/account/providers/github/link"`);
    expect(html).toContain('id="link-reauth-password"');
  });

  test("a cross-site post is refused", async () => {
    const { b } = await memberBrowser();
    expect((await startLink(b, "github", "https://evil.example")).status).toBe(403);
  });

  test("an unknown provider is not found", async () => {
    const { b } = await memberBrowser();
    expect((await startLink(b, "myspace")).status).toBe(404);
  });

  test("a second GitHub account is refused while one is linked", async () => {
    const { user, b } = await memberBrowser();
    fake.signInToGitHub(gitHubUser("first-link@example.com"));
    expect(await linkThrough(b)).toBe("/account?notice=linked");
    fake.signInToGitHub(gitHubUser("second-link@example.com"));
    expect(await linkThrough(b)).toBe("/account?error=link_other_linked");
    expect(await linkedProviders(user.id)).toEqual(["github"]);
  });

  test("two people linking one GitHub account at once: exactly one gets it", async () => {
    const first = await memberBrowser();
    const second = await memberBrowser();
    fake.signInToGitHub(gitHubUser("contested@example.com"));
    const callbacks = await Promise.all([callbackOf(first.b), callbackOf(second.b)]);
    const answers = await Promise.all([
      first.b.request(callbacks[0] as string),
      second.b.request(callbacks[1] as string),
    ]);
    const locations = answers.map((a) => a.headers.get("location")).sort();
    expect(locations).toEqual(["/account?error=link_taken", "/account?notice=linked"]);
    const owners = await pool.anyFirst(sql.unsafe`
      SELECT user_id FROM oauth_accounts
      WHERE user_id IN (${first.user.id}, ${second.user.id})`);
    expect(owners).toHaveLength(1);
  });

  test("the callback in another person's session links nothing", async () => {
    const { user, b } = await memberBrowser();
    fake.signInToGitHub(gitHubUser("victim-link@example.com"));
    const callback = await callbackOf(b);
    const other = await signedInUser(pool, app.config, { isWhitelisted: true });
    b.setCookie(publicHost, sessionCookieName(app.config), other.cookie.split("=")[1] as string);
    const answered = await b.request(callback);
    expect(answered.headers.get("location")).toBe("/account?error=bad_state");
    expect(await linkedProviders(user.id)).toEqual([]);
    expect(await linkedProviders(other.user.id)).toEqual([]);
  });
});
