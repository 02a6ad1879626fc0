import { describe, expect, test } from "bun:test";
import { type DatabaseTransactionConnection, sql } from "slonik";
import { insertAuditEvent } from "../sql/audit-events.ts";
import { insertUser, type NewUser } from "../sql/users.ts";
import { sessionCookieName } from "../src/http/session-cookie.ts";
import { createSession } from "../src/sessions/sessions.ts";
import { appTestSetup } from "./support/app.ts";
import {
  cookieHeader,
  cookiesSet,
  crossSitePoster,
  formPoster,
  postForm,
} from "./support/requests.ts";
import {
  approvedPasswordUser,
  knownPassword,
  linkTokenlessAccount,
  signedInUser,
} from "./support/sign-in.ts";

// The account center (/account): a signed-in person manages profile,
// devices, providers, reads their own security events, downloads their data
// and deletes the account, with plain forms (no script), every change
// through a real request that passes the CSRF check.

const { db, app } = await appTestSetup();
const { pool } = db;

const post = formPoster(app);
const crossSite = crossSitePoster(app);
/** A form post without a session (signed out). */
const anonymous = (path: string, fields: Record<string, string>) =>
  postForm(app, path, fields, { origin: app.config.http.PUBLIC_URL });
const firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const iphone =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

const page = async (cookie: string, path = "/account") => {
  const response = await app.request(path, { headers: { cookie }, redirect: "manual" });
  expect(response.status).toBe(200);
  expect(response.headers.get("cache-control")).toBe("no-store");
  return response.text();
};

const member = (user: Partial<NewUser> = {}) =>
  signedInUser(pool, app.config, { isWhitelisted: true, fullName: "Robin Member", ...user });

/** Another live session of the user, as another browser signed in from elsewhere. */
async function otherDevice(userId: string, userAgent = firefox, ip = "203.0.113.9") {
  const { session, secret } = await createSession(pool, {
    userId,
    ttlMs: app.config.session.SESSION_TTL,
    idleTtlMs: app.config.session.SESSION_IDLE_TTL,
    ip,
    userAgent,
  });
  return { id: session.id, cookie: `${sessionCookieName(app.config)}=${secret}` };
}

const revokedAt = (sessionId: string) =>
  pool.oneFirst(sql.unsafe`SELECT revoked_at FROM sessions WHERE id = ${sessionId}`);

const linkProvider = (userId: string, db: DatabaseTransactionConnection | typeof pool = pool) =>
  linkTokenlessAccount(db, {
    userId,
    providerUserId: crypto.randomUUID(),
    email: "robin@users.example",
  });

/** A user who signs in only with GitHub (no password), with a session. */
async function providerOnlyMember() {
  const user = await pool.transaction(async (tx) => {
    const created = await insertUser(tx, {
      email: `provider-${crypto.randomUUID().slice(0, 8)}@example.com`,
      emailVerified: true,
      isWhitelisted: true,
      passwordHash: null,
    });
    await linkProvider(created.id, tx);
    return created;
  });
  const device = await otherDevice(user.id);
  return { user, cookie: device.cookie };
}

/** Makes the user's sessions' last proof of identity an hour old (REAUTH_MAX_AGE is 10 min). */
const age = (userId: string) =>
  pool.query(sql.unsafe`
    UPDATE sessions SET authenticated_at = now() - interval '1 hour' WHERE user_id = ${userId}`);

describe("the page", () => {
  test("without a session it sends the browser to sign in and come back", async () => {
    const response = await app.request("/account", { redirect: "manual" });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/?redirect_to=%2Faccount");
  });

  test("it has one h1, the viewport tag, a label for every input and the signed-in header", async () => {
    const { cookie } = await member();
    const html = await page(cookie);
    expect(html.match(/<h1[ >]/g)).toHaveLength(1);
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1"/>');
    for (const [, id] of html.matchAll(/<input(?![^>]*type="hidden")[^>]* id="([^"]+)"/g)) {
      expect(html).toContain(`for="${id}"`);
    }
    expect(html).not.toMatch(/<input(?![^>]*type="hidden")(?![^>]*id=)[^>]*>/);
    expect(html).toContain("Signed in as <strong>Robin Member</strong>");
    expect(html).toContain('action="/sign-out"');
  });

  test("it shows the profile, the address as confirmed, the security section and the data download", async () => {
    const { user, cookie } = await member();
    const html = await page(cookie);
    expect(html).toContain('value="Robin Member"');
    expect(html).toContain(user.email as string);
    expect(html).toContain("confirmed</span>");
    expect(html).not.toContain('action="/auth/email/resend"');
    expect(html).toContain('href="/account/security"');
    expect(html).toContain('href="/auth/password/change"');
    expect(html).toContain('href="/me/export"');
    expect(html).toContain('href="/account/events"');
  });

  test("an unconfirmed address is said so, with a form to send the mail again", async () => {
    const { user, cookie } = await member({ emailVerified: false });
    const html = await page(cookie);
    expect(html).toContain("not confirmed");
    expect(html).toContain('action="/auth/email/resend"');
    expect(html).toContain(`name="email" value="${user.email}"`);
  });

  test("an account without a password is offered a mailed link to set one", async () => {
    const { user, cookie } = await providerOnlyMember();
    const html = await page(cookie);
    expect(html).not.toContain('href="/auth/password/change"');
    expect(html).toContain('action="/auth/password/forgot"');
    expect(html).toContain(`name="email" value="${user.email}"`);
  });

  test("devices have readable names, this device marked, the last time and place seen", async () => {
    const { user, cookie } = await member();
    await otherDevice(user.id, firefox, "203.0.113.9");
    await otherDevice(user.id, iphone, "198.51.100.20");
    const html = await page(cookie);
    expect(html).toContain("Firefox 128 on Linux");
    expect(html).toContain("Safari 17 on iOS");
    expect(html).toContain("from 203.0.113.9");
    expect(html).toMatch(/Unknown browser<\/strong> <span class="badge ok">this device<\/span>/);
    expect(html).toContain("Sign out every other device (2)");
    expect(html).not.toContain(firefox);
  });

  test("an administrator finds the admin console; a member does not", async () => {
    const admin = await member({ role: "admin" });
    expect(await page(admin.cookie)).toContain('href="/admin"');
    const { cookie } = await member();
    expect(await page(cookie)).not.toContain('href="/admin"');
  });

  test("an account awaiting approval is told so and offered no changes", async () => {
    const { cookie } = await signedInUser(pool, app.config, { fullName: "Pat Pending" });
    const html = await page(cookie);
    expect(html).toContain("waiting for an administrator");
    expect(html).not.toContain('action="/account/profile"');
    expect(html).toContain('action="/sign-out"');
  });

  test("a denied account is told it was denied, not that it is inactive", async () => {
    const { user, cookie } = await member();
    await pool.query(sql.unsafe`UPDATE users SET status = 'denied' WHERE id = ${user.id}`);
    const html = await page(cookie);
    expect(html).toContain("An administrator denied this account");
    // The page's words, not its stylesheet (which styles the console's status badges too).
    expect(html.slice(html.indexOf("</style>"))).not.toContain("inactive");
  });

  test("an unknown notice shows nothing of the query", async () => {
    const { cookie } = await member();
    expect(await page(cookie, "/account?notice=constructor")).not.toContain('class="notice"');
  });

  test("a safe redirect_to becomes a Continue button; an unsafe one does not", async () => {
    const { cookie } = await member();
    expect(await page(cookie, "/account?redirect_to=%2Fapp")).toContain(
      '<a class="next" href="/app">Continue</a>',
    );
    expect(await page(cookie, "/account?redirect_to=https%3A%2F%2Fevil.example")).not.toContain(
      "evil.example",
    );
  });
});

describe("the profile form", () => {
  const nameOf = (userId: string) =>
    pool.oneFirst(sql.unsafe`SELECT full_name FROM users WHERE id = ${userId}`);

  test("saving a name goes back to the page, which shows it", async () => {
    const { user, cookie } = await member();
    const saved = await post("/account/profile", cookie, { full_name: "  Robin Renamed " });
    expect(saved.status).toBe(303);
    expect(saved.headers.get("location")).toBe("/account?notice=profile_saved");
    expect(await nameOf(user.id)).toBe("Robin Renamed");
    const html = await page(cookie, "/account?notice=profile_saved");
    expect(html).toContain("Profile saved.");
    expect(html).toContain("Signed in as <strong>Robin Renamed</strong>");
  });

  test("an empty name removes it", async () => {
    const { user, cookie } = await member();
    expect((await post("/account/profile", cookie, { full_name: "" })).status).toBe(303);
    expect(await nameOf(user.id)).toBeNull();
  });

  test("a name with control characters is refused on the page and nothing changes", async () => {
    const { user, cookie } = await member();
    const refused = await post("/account/profile", cookie, { full_name: "Robin\u0007" });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain("Use printable characters only.");
    expect(await nameOf(user.id)).toBe("Robin Member");
  });

  test("a cross-site post is refused and nothing changes", async () => {
    const { user, cookie } = await member();
    const refused = await crossSite("/account/profile", cookie, { full_name: "Mallory" });
    expect(refused.status).toBe(403);
    expect(await nameOf(user.id)).toBe("Robin Member");
  });

  test("without a session it is refused", async () => {
    const refused = await anonymous("/account/profile", { full_name: "Nobody" });
    expect(refused.status).toBe(401);
  });
});

describe("devices", () => {
  test("revoking one device signs it out and keeps this one", async () => {
    const { user, cookie, sessionId } = await member();
    const other = await otherDevice(user.id);
    const revoked = await post(`/account/sessions/${other.id}/revoke`, cookie, {});
    expect(revoked.status).toBe(303);
    expect(revoked.headers.get("location")).toBe("/account?notice=device_revoked");
    expect(await revokedAt(other.id)).not.toBeNull();
    expect(await revokedAt(sessionId)).toBeNull();
    const gone = await app.request("/account", {
      headers: { cookie: other.cookie },
      redirect: "manual",
    });
    expect(gone.status).toBe(303);
  });

  test("another person's device is not found and stays signed in", async () => {
    const { cookie } = await member();
    const stranger = await member();
    const refused = await post(`/account/sessions/${stranger.sessionId}/revoke`, cookie, {});
    expect(refused.status).toBe(404);
    expect(await refused.text()).toContain("No such session.");
    expect(await revokedAt(stranger.sessionId)).toBeNull();
    expect((await post("/account/sessions/not-a-uuid/revoke", cookie, {})).status).toBe(404);
  });

  test("revoking this device signs out and goes to the sign-in page", async () => {
    const { cookie, sessionId } = await member();
    const out = await post(`/account/sessions/${sessionId}/revoke`, cookie, {});
    expect(out.status).toBe(303);
    expect(out.headers.get("location")).toBe("/?notice=signed_out");
    expect(out.headers.getSetCookie().join()).toContain("Max-Age=0");
    expect(await revokedAt(sessionId)).not.toBeNull();
  });

  test("signing out every other device keeps this one", async () => {
    const { user, cookie, sessionId } = await member();
    const first = await otherDevice(user.id);
    const second = await otherDevice(user.id, iphone);
    const done = await post("/account/sessions/revoke-others", cookie, {});
    expect(done.status).toBe(303);
    expect(done.headers.get("location")).toBe("/account?notice=others_revoked");
    expect(await revokedAt(first.id)).not.toBeNull();
    expect(await revokedAt(second.id)).not.toBeNull();
    expect(await revokedAt(sessionId)).toBeNull();
  });
});

describe("linked providers", () => {
  const linked = (userId: string) =>
    pool.anyFirst(sql.unsafe`SELECT provider FROM oauth_accounts WHERE user_id = ${userId}`);

  test("a linked provider is listed and unlinked when a password is left", async () => {
    const { user, cookie } = await member();
    await linkProvider(user.id);
    const html = await page(cookie);
    expect(html).toContain("<strong>GitHub</strong>");
    expect(html).toContain('action="/account/providers/github/unlink"');
    const unlinked = await post("/account/providers/github/unlink", cookie, {});
    expect(unlinked.status).toBe(303);
    expect(unlinked.headers.get("location")).toBe("/account?notice=unlinked");
    expect(await linked(user.id)).toEqual([]);
  });

  test("unlinking the last way to sign in is refused with the reason, and it stays linked", async () => {
    const { user, cookie } = await providerOnlyMember();
    const refused = await post("/account/providers/github/unlink", cookie, {});
    expect(refused.status).toBe(409);
    const html = await refused.text();
    expect(html).toContain('role="alert"');
    expect(html).toMatch(/last way to sign in|only way/i);
    expect(await linked(user.id)).toEqual(["github"]);
  });

  test("a provider that is not linked is not found", async () => {
    const { cookie } = await member();
    expect((await post("/account/providers/google/unlink", cookie, {})).status).toBe(404);
    expect((await post("/account/providers/nonsense/unlink", cookie, {})).status).toBe(404);
  });
});

describe("security events", () => {
  test("the page lists the person's own events in words, with time and place", async () => {
    const { user, cookie } = await member();
    const stranger = await member();
    await insertAuditEvent(pool, {
      eventType: "login.failed",
      result: "failure",
      userId: user.id,
      ip: "192.0.2.44",
      userAgent: firefox,
    });
    await insertAuditEvent(pool, {
      eventType: "password.changed",
      result: "success",
      userId: stranger.user.id,
      ip: "192.0.2.99",
    });
    const html = await page(cookie, "/account/events");
    expect(html).toContain("<strong>Sign-in failed</strong>");
    expect(html).toContain("failed</span>");
    expect(html).toContain("from 192.0.2.44, Firefox 128 on Linux");
    expect(html).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    expect(html).not.toContain("192.0.2.99");
    expect(await page(cookie)).toContain("Sign-in failed");
  });

  test("older events are a page further, by a cursor", async () => {
    const { user, cookie } = await member();
    for (let i = 0; i < 27; i++) {
      await insertAuditEvent(pool, {
        eventType: "account.profile_updated",
        result: "success",
        userId: user.id,
        ip: `192.0.2.${i + 1}`,
      });
    }
    const first = await page(cookie, "/account/events");
    expect(first.match(/Profile changed/g)).toHaveLength(25);
    const next = first.match(/href="(\/account\/events\?cursor=[^"]+)"/)?.[1] ?? "";
    expect(next).not.toBe("");
    const second = await page(cookie, next.replaceAll("&amp;", "&"));
    expect(second.match(/Profile changed/g)).toHaveLength(2);
    expect(second).not.toContain("Older events");
  });

  test("a forged cursor is refused", async () => {
    const { cookie } = await member();
    const refused = await app.request("/account/events?cursor=bm90LWEtY3Vyc29y", {
      headers: { cookie },
    });
    expect(refused.status).toBe(400);
  });
});

describe("deleting the account", () => {
  const statusOf = (userId: string) =>
    pool.oneFirst(sql.unsafe`SELECT status FROM users WHERE id = ${userId}`);

  test("with DELETE typed and a recent sign-in the account goes and the browser is signed out", async () => {
    const { user, cookie } = await member();
    const deleted = await post("/account/delete", cookie, { confirm: "DELETE" });
    expect(deleted.status).toBe(303);
    expect(deleted.headers.get("location")).toBe("/?notice=account_deleted");
    expect(deleted.headers.getSetCookie().join()).toContain("Max-Age=0");
    expect(await statusOf(user.id)).toBe("deleted");
    const signInPage = await app.request("/?notice=account_deleted");
    expect(await signInPage.text()).toContain("Your account is deleted.");
  });

  test("without the word typed it is refused on the page and nothing changes", async () => {
    const { user, cookie } = await member();
    const refused = await post("/account/delete", cookie, { confirm: "yes" });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain("Type DELETE to confirm.");
    expect(await statusOf(user.id)).toBe("active");
  });

  test("an old sign-in is asked to confirm it is you first, and nothing changes", async () => {
    const { user, cookie } = await member();
    await age(user.id);
    const html = await page(cookie);
    expect(html).not.toContain('action="/account/delete"');
    expect(html).toContain('action="/auth/reauth"');
    const refused = await post("/account/delete", cookie, { confirm: "DELETE" });
    expect(refused.status).toBe(401);
    expect(await refused.text()).toContain('action="/auth/reauth"');
    expect(await statusOf(user.id)).toBe("active");
  });

  test("the last administrator cannot delete the account", async () => {
    await pool.query(sql.unsafe`UPDATE users SET role = 'user' WHERE role = 'admin'`);
    const { user, cookie } = await member({ role: "admin" });
    const refused = await post("/account/delete", cookie, { confirm: "DELETE" });
    expect(refused.status).toBe(409);
    expect(await statusOf(user.id)).toBe("active");
  });

  test("a cross-site post is refused and nothing changes", async () => {
    const { user, cookie } = await member();
    const refused = await crossSite("/account/delete", cookie, { confirm: "DELETE" });
    expect(refused.status).toBe(403);
    expect(await statusOf(user.id)).toBe("active");
  });
});

describe("the sign-in flow's pages", () => {
  test("a browser asking for an unknown page gets an HTML 404 with a way on; an API client problem+json", async () => {
    const browser = await app.request("/no/such/page", {
      headers: { accept: "text/html,application/xhtml+xml,*/*;q=0.8" },
    });
    expect(browser.status).toBe(404);
    expect(browser.headers.get("content-type")).toContain("text/html");
    const html = await browser.text();
    expect(html).toContain("<h1>Page not found</h1>");
    expect(html).toContain('<a class="next" href="/">');
    const api = await app.request("/no/such/page", { headers: { accept: "application/json" } });
    expect(api.status).toBe(404);
    expect(api.headers.get("content-type")).toContain("application/problem+json");
  });

  test("a refused sign-up keeps the typed address and name", async () => {
    const refused = await anonymous("/auth/signup", {
      email: "keep.me@example.com",
      full_name: "Kept Name",
      password: "short",
    });
    expect(refused.status).toBe(400);
    const html = await refused.text();
    expect(html).toContain('value="keep.me@example.com"');
    expect(html).toContain('value="Kept Name"');
    expect(html).not.toContain('value="short"');
  });

  test("check-your-inbox and password-reset end pages lead on to sign in", async () => {
    const sent = await anonymous("/auth/password/forgot", { email: "nobody@example.com" });
    expect(sent.status).toBe(202);
    expect(await sent.text()).toContain('<a class="next" href="/">Sign in</a>');
  });

  test("a wrong password keeps the address on the sign-in page, once", async () => {
    const { user } = await member();
    const wrong = await anonymous("/auth/login", {
      email: user.email as string,
      password: "not the password",
    });
    expect(wrong.status).toBe(303);
    expect(wrong.headers.get("location")).toBe("/?error=invalid_credentials");
    const cookie = cookieHeader(cookiesSet(wrong));
    const again = await app.request("/?error=invalid_credentials", { headers: { cookie } });
    const html = await again.text();
    expect(html).toContain(`value="${user.email}"`);
    expect(html).toContain("Sign in with a passkey");
    expect(html).toContain('href="/auth/email-code"');
    expect(again.headers.getSetCookie().join()).toContain("Max-Age=0");
  });

  test("a denied account signing in is told it was denied", async () => {
    const user = await approvedPasswordUser(pool, app.config);
    await pool.query(sql.unsafe`UPDATE users SET status = 'denied' WHERE id = ${user.id}`);
    const refused = await anonymous("/auth/login", {
      email: user.email as string,
      password: knownPassword,
    });
    expect(refused.headers.get("location")).toBe("/?error=account_denied");
  });
});
