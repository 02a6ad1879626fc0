import { afterAll, describe, expect, test } from "bun:test";
import { sql } from "slonik";
import { upsertAllowlistRule } from "../sql/allowlist-rules.ts";
import type { TestBrowser } from "./support/browser.ts";
import { testKey } from "./support/cli.ts";
import { gitHubUser } from "./support/fake-social-providers.ts";
import { signedInUser } from "./support/sign-in.ts";
import { base, me, publicHost, startSignInSite } from "./support/sign-in-site.ts";
import { startTestSmtpServer, tokenFromMail } from "./support/smtp.ts";

// Password accounts where they meet the rest of sign-in: the sign-in page,
// allowlist rules and ADMIN_EMAILS, and provider sign-in of the same address.

const smtp = await startTestSmtpServer();
const { pool, app, browser, signInWithGitHub, close } = await startSignInSite({
  SMTP_URL: smtp.url,
  TOKEN_ENCRYPTION_KEYS: testKey("kp", 5),
  ADMIN_EMAILS:
    "Chief@Bosses.example,demoted@bosses.example,gh-demoted@bosses.example,squatted@bosses.example",
  ALLOWED_REDIRECT_ORIGINS: "https://app.example.test",
  // Every browser here is one client: room for all of this file's sign-ups.
  RATE_LIMIT_SIGNUP_IP: "100/1h",
  RATE_LIMIT_LOGIN_IP: "200/1h",
});
afterAll(async () => {
  await close();
  await smtp.close();
});

const password = "correct horse battery staple";
let n = 0;

/** A form post from a page of ours, as a browser sends it. */
function submit(b: TestBrowser, path: string, fields: Record<string, string>) {
  return b.request(`${base}${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      origin: base,
      "sec-fetch-site": "same-origin",
    },
    body: new URLSearchParams(fields).toString(),
  });
}

async function signUp(b: TestBrowser, email: string) {
  expect((await submit(b, "/auth/signup", { email, password })).status).toBe(201);
  return tokenFromMail(await smtp.waitForMail(email, /Confirm/), "/auth/email/verify");
}

async function signIn(b: TestBrowser, email: string, pw = password) {
  const answer = await submit(b, "/auth/login", { email, password: pw });
  expect(answer.status).toBe(303);
}

/** An administrator's change through the admin API, as the admin page sends it. */
async function adminChange(userId: string, change: Record<string, unknown>) {
  const admin = await signedInUser(pool, app.config, { role: "admin", isWhitelisted: true });
  const answer = await app.request(`/admin/users/${userId}`, {
    method: "PATCH",
    headers: { cookie: admin.cookie, origin: base, "content-type": "application/json" },
    body: JSON.stringify(change),
  });
  expect(answer.status).toBe(200);
}

async function rightsOf(email: string) {
  return pool.one(sql.unsafe`
    SELECT id, role, is_whitelisted, role_decided_at IS NOT NULL AS role_decided,
      approval_decided_at IS NOT NULL AS approval_decided
    FROM users WHERE email = ${email}`) as Promise<{
    id: string;
    role: string;
    is_whitelisted: boolean;
    role_decided: boolean;
    approval_decided: boolean;
  }>;
}

async function autoApprovals(userId: string): Promise<number> {
  return Number(
    await pool.oneFirst(sql.unsafe`
      SELECT count(*)::int FROM audit_events
      WHERE user_id = ${userId} AND event_type = 'account.auto_approved'`),
  );
}

describe("the sign-in page", () => {
  test("offers email and password, and its form returns to an allowed redirect_to", async () => {
    const email = `page${++n}@example.com`;
    const b = browser();
    await signUp(b, email);
    const target = "https://app.example.test/reports?q=1";
    const page = await b.request(`${base}/?redirect_to=${encodeURIComponent(target)}`);
    const html = await page.text();
    expect(html).toContain('action="/auth/login"');
    expect(html).toContain(`name="redirect_to" value="${target}"`);
    expect(html).toContain('href="/auth/signup"');
    expect(html).toContain('href="/auth/password/forgot"');

    const answer = await submit(b, "/auth/login", { email, password, redirect_to: target });
    expect(answer.status).toBe(303);
    expect(answer.headers.get("location")).toBe(target);
    expect((await me(b)).status).toBe(200);
  });

  test("a redirect_to elsewhere falls back to the sign-in page", async () => {
    const email = `page${++n}@example.com`;
    const b = browser();
    await signUp(b, email);
    for (const target of ["https://evil.example/", "//evil.example", "/\\evil.example"]) {
      const answer = await submit(b, "/auth/login", { email, password, redirect_to: target });
      expect(answer.headers.get("location")).toBe("/");
    }
  });

  test("a second sign-in in one browser replaces its session", async () => {
    const email = `page${++n}@example.com`;
    const b = browser();
    await signUp(b, email);
    await signIn(b, email);
    const first = b.cookie(publicHost, "__Host-gatehouse_session");
    await signIn(b, email);
    const second = b.cookie(publicHost, "__Host-gatehouse_session");
    expect(second).not.toBe(first);
    const live = await pool.oneFirst(sql.unsafe`
      SELECT count(*)::int FROM sessions s JOIN users u ON u.id = s.user_id
      WHERE u.email = ${email} AND s.revoked_at IS NULL`);
    expect(live).toBe(1);
  });
});

describe("allowlist rules and ADMIN_EMAILS", () => {
  test("a domain rule admits a password user only once the address is verified", async () => {
    await upsertAllowlistRule(pool, { kind: "domain", value: "corp.example", createdBy: null });
    const email = `alice${++n}@corp.example`;
    const b = browser();
    const token = await signUp(b, email);
    await signIn(b, email);
    expect((await me(b)).body).toMatchObject({ email_verified: false, is_whitelisted: false });
    // The account page tells an unverified user how to get the mail again.
    expect(await (await b.request(`${base}/account`)).text()).toContain(
      'action="/auth/email/resend"',
    );
    expect((await submit(b, "/auth/email/verify", { token })).status).toBe(200);
    expect((await me(b)).body).toMatchObject({ email_verified: true, is_whitelisted: true });
    const events = await pool.anyFirst(sql.unsafe`
      SELECT context->>'allowlist_rule' FROM audit_events
      WHERE event_type = 'account.auto_approved'
        AND user_id = (SELECT id FROM users WHERE email = ${email})`);
    expect(events).toEqual(["domain:corp.example"]);
  });

  test("ADMIN_EMAILS makes a password user an admin once the address is verified", async () => {
    const b = browser();
    const token = await signUp(b, "chief@bosses.example");
    await signIn(b, "chief@bosses.example");
    expect((await me(b)).body).toMatchObject({ role: "user", is_whitelisted: false });
    await submit(b, "/auth/email/verify", { token });
    expect((await me(b)).body).toMatchObject({ role: "admin", is_whitelisted: true });
  });

  test("a rule added after sign-up takes effect at the next password sign-in", async () => {
    const email = `late${++n}@example.com`;
    const b = browser();
    const token = await signUp(b, email);
    await signIn(b, email);
    expect((await submit(b, "/auth/email/verify", { token })).status).toBe(200);
    await signIn(b, email);
    expect((await me(b)).body).toMatchObject({ is_whitelisted: false });
    await upsertAllowlistRule(pool, { kind: "email", value: email, createdBy: null });
    await signIn(b, email);
    expect((await me(b)).body).toMatchObject({ is_whitelisted: true });
  });
});

describe("an administrator's decision outranks ADMIN_EMAILS and allowlist rules", () => {
  test("a demoted and un-approved bootstrap admin stays so after signing in again", async () => {
    const email = "demoted@bosses.example";
    const b = browser();
    const token = await signUp(b, email);
    await signIn(b, email);
    expect((await submit(b, "/auth/email/verify", { token })).status).toBe(200);
    const before = await rightsOf(email);
    expect(before).toMatchObject({ role: "admin", is_whitelisted: true, role_decided: false });
    expect(await autoApprovals(before.id)).toBe(1);

    await adminChange(before.id, { role: "user", is_whitelisted: false });
    await signIn(b, email);
    expect((await me(b)).body).toMatchObject({ role: "user", is_whitelisted: false });
    expect(await rightsOf(email)).toMatchObject({
      role: "user",
      is_whitelisted: false,
      role_decided: true,
      approval_decided: true,
    });
    expect(await autoApprovals(before.id)).toBe(1);
    const decisions = await pool.anyFirst(sql.unsafe`
      SELECT context FROM audit_events
      WHERE user_id = ${before.id} AND event_type = 'admin.user_updated' AND result = 'success'`);
    expect(decisions).toEqual([{ role: "user", is_whitelisted: false }]);
  });

  test("an allowlist rule does not re-approve a password user an administrator denied", async () => {
    await upsertAllowlistRule(pool, { kind: "domain", value: "denied.example", createdBy: null });
    const email = `denied${++n}@denied.example`;
    const b = browser();
    const token = await signUp(b, email);
    await signIn(b, email);
    await submit(b, "/auth/email/verify", { token });
    const { id } = await rightsOf(email);
    expect((await me(b)).body).toMatchObject({ is_whitelisted: true });

    await adminChange(id, { is_whitelisted: false });
    await signIn(b, email);
    expect((await me(b)).body).toMatchObject({ is_whitelisted: false });
    expect(await rightsOf(email)).toMatchObject({ is_whitelisted: false, approval_decided: true });
    expect(await autoApprovals(id)).toBe(1);
  });

  test("a demoted bootstrap admin signing in with GitHub again stays demoted", async () => {
    const email = "gh-demoted@bosses.example";
    const github = gitHubUser(email);
    expect((await me(await signInWithGitHub(github))).body).toMatchObject({
      role: "admin",
      is_whitelisted: true,
    });
    const { id } = await rightsOf(email);

    await adminChange(id, { role: "user", is_whitelisted: false });
    const again = await signInWithGitHub(github);
    expect((await me(again)).body).toMatchObject({ id, role: "user", is_whitelisted: false });
    expect(await rightsOf(email)).toMatchObject({ role: "user", is_whitelisted: false });
  });

  test("a GitHub organisation rule does not re-approve a user an administrator denied", async () => {
    await upsertAllowlistRule(pool, { kind: "github_org", value: "denied-org", createdBy: null });
    const email = `org${++n}@example.com`;
    const github = gitHubUser(email, { orgs: ["denied-org"] });
    expect((await me(await signInWithGitHub(github))).body).toMatchObject({ is_whitelisted: true });
    const { id } = await rightsOf(email);

    await adminChange(id, { is_whitelisted: false });
    const again = await signInWithGitHub(github);
    expect((await me(again)).body).toMatchObject({ id, is_whitelisted: false });
    expect(await rightsOf(email)).toMatchObject({ is_whitelisted: false, approval_decided: true });
  });

  test("a user an administrator never decided on still gets a rule added later", async () => {
    const email = `undecided${++n}@example.com`;
    const github = gitHubUser(email);
    expect((await me(await signInWithGitHub(github))).body).toMatchObject({
      is_whitelisted: false,
    });
    await upsertAllowlistRule(pool, { kind: "email", value: email, createdBy: null });
    expect((await me(await signInWithGitHub(github))).body).toMatchObject({ is_whitelisted: true });
  });
});

/** The confirmation mail of a sign-up by `b`: its token, shared by both links. */
async function squat(b: TestBrowser, email: string) {
  expect((await submit(b, "/auth/signup", { email, password })).status).toBe(201);
  const mail = await smtp.waitForMail(email, /Confirm/);
  const token = tokenFromMail(mail, "/auth/email/verify");
  expect(tokenFromMail(mail, "/auth/email/not-me")).toBe(token);
  return token;
}

async function addressState(email: string) {
  return pool.one(sql.unsafe`
    SELECT u.id, u.email_verified, u.role, u.is_whitelisted,
      (SELECT count(*)::int FROM verification_tokens t
        WHERE t.user_id = u.id AND t.used_at IS NULL) AS unused_links
    FROM users u WHERE u.email = ${email}`) as Promise<{
    id: string;
    email_verified: boolean;
    role: string;
    is_whitelisted: boolean;
    unused_links: number;
  }>;
}

describe("the confirmation link proves the mailbox and the password together", () => {
  test("a confirmation link without a session asks to sign in and confirms nothing", async () => {
    const email = `nosession${++n}@example.com`;
    const token = await squat(browser(), email);
    const owner = browser();
    const page = await (await owner.request(`${base}/auth/email/verify?token=${token}`)).text();
    expect(page).toContain('action="/auth/login"');
    expect(page).toContain(`value="/auth/email/verify?token=${token}"`);
    expect(page).toContain('action="/auth/email/not-me"');

    const refused = await submit(owner, "/auth/email/verify", { token });
    expect(refused.status).toBe(401);
    expect(await refused.text()).toContain("Sign in with this account");
    const json = await app.request("/auth/email/verify", {
      method: "POST",
      headers: { "content-type": "application/json", origin: base },
      body: JSON.stringify({ token }),
    });
    expect(json.status).toBe(401);
    expect(json.headers.get("content-type")).toBe("application/problem+json");
    expect(await addressState(email)).toMatchObject({ email_verified: false, unused_links: 1 });
  });

  test("a confirmation link does not confirm in another account's session", async () => {
    const email = `othersession${++n}@example.com`;
    const token = await squat(browser(), email);
    const other = await signedInUser(pool, app.config);
    const answer = await app.request("/auth/email/verify", {
      method: "POST",
      headers: { "content-type": "application/json", origin: base, cookie: other.cookie },
      body: JSON.stringify({ token }),
    });
    expect(answer.status).toBe(403);
    expect(((await answer.json()) as { type: string }).type).toBe(
      "urn:gatehouse:problem:link-of-another-account",
    );
    expect(await addressState(email)).toMatchObject({ email_verified: false, unused_links: 1 });
  });

  test("the mailbox holder's “not me” takes the account over and shuts the squatter out", async () => {
    const email = "squatted@bosses.example";
    const squatter = browser();
    const token = await squat(squatter, email);
    await signIn(squatter, email);
    const pair = (await (
      await app.request("/auth/token", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ grant_type: "password", email, password }),
      })
    ).json()) as { refresh_token: string };
    const { id } = await addressState(email);

    // The owner has the mail, not the password.
    const owner = browser();
    const page = await (await owner.request(`${base}/auth/email/not-me?token=${token}`)).text();
    expect(page).toContain(`name="token" value="${token}"`);
    const ownPassword = "the owner's own passphrase";
    const taken = await submit(owner, "/auth/email/not-me", { token, password: ownPassword });
    expect(taken.status).toBe(200);
    expect(await taken.text()).toContain("The account is yours");

    // The squatter: old session out, old password refused, refresh token dead.
    expect((await me(squatter)).status).toBe(401);
    const refused = await submit(squatter, "/auth/login", { email, password });
    expect(refused.headers.get("location")).toBe("/?error=invalid_credentials");
    const refreshed = await app.request("/auth/token", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ grant_type: "refresh_token", refresh_token: pair.refresh_token }),
    });
    expect(refreshed.status).toBe(400);
    const live = await pool.oneFirst(sql.unsafe`
      SELECT (SELECT count(*)::int FROM sessions WHERE user_id = ${id} AND revoked_at IS NULL)
        + (SELECT count(*)::int FROM refresh_tokens WHERE user_id = ${id} AND revoked_at IS NULL)`);
    expect(live).toBe(0);

    // The owner: the same account, verified, bootstrap admin, with their password.
    await signIn(owner, email, ownPassword);
    expect((await me(owner)).body).toMatchObject({
      id,
      email_verified: true,
      role: "admin",
      is_whitelisted: true,
    });
    expect(await addressState(email)).toMatchObject({ unused_links: 0 });
    const events = await pool.anyFirst(sql.unsafe`
      SELECT event_type FROM audit_events WHERE user_id = ${id} ORDER BY occurred_at, id`);
    expect(events).toContain("account.reclaimed");
    expect(events).toContain("password.reset");
    expect(events).toContain("account.auto_approved");
  });

  test("before the owner acts, the squatter's session sees no verified address and no admin role", async () => {
    const email = `waiting${++n}@bosses.example`;
    const squatter = browser();
    await squat(squatter, email);
    await signIn(squatter, email);
    expect((await me(squatter)).body).toMatchObject({
      email_verified: false,
      role: "user",
      is_whitelisted: false,
    });
  });

  test("“not me” with a link already used changes nothing", async () => {
    const email = `honest${++n}@example.com`;
    const b = browser();
    const token = await squat(b, email);
    await signIn(b, email);
    expect((await submit(b, "/auth/email/verify", { token })).status).toBe(200);
    const refused = await submit(browser(), "/auth/email/not-me", {
      token,
      password: "somebody else's passphrase",
    });
    expect(refused.status).toBe(400);
    await signIn(b, email);
    expect((await me(b)).status).toBe(200);
  });
});

describe("pre-account takeover", () => {
  test("the address's owner arriving through a provider reclaims a squatter's unverified account", async () => {
    const email = `victim${++n}@example.com`;
    const squatter = browser();
    await signUp(squatter, email);
    await signIn(squatter, email);
    const userId = String(
      await pool.oneFirst(sql.unsafe`SELECT id FROM users WHERE email = ${email}`),
    );
    const users = await pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM users`);

    const owner = await signInWithGitHub(gitHubUser(email));

    // The owner holds the same account, now verified and without the squatter's password.
    expect((await me(owner)).body).toMatchObject({
      id: userId,
      email_verified: true,
      has_password: false,
    });
    expect(await pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM users`)).toBe(users);
    // The squatter is out: session revoked, password gone.
    expect((await me(squatter)).status).toBe(401);
    const again = await submit(squatter, "/auth/login", { email, password });
    expect(again.headers.get("location")).toBe("/?error=invalid_credentials");
    const events = await pool.anyFirst(sql.unsafe`
      SELECT event_type FROM audit_events WHERE user_id = ${userId} ORDER BY occurred_at, id`);
    // One transaction: reclaimed and linked together, or neither.
    expect(events).toContain("account.reclaimed");
    expect(events).toContain("account.linked");
  });

  test("a verified password account is linked and keeps its password", async () => {
    const email = `linked${++n}@example.com`;
    const b = browser();
    const token = await signUp(b, email);
    await signIn(b, email);
    expect((await submit(b, "/auth/email/verify", { token })).status).toBe(200);
    const other = await signInWithGitHub(gitHubUser(email));
    expect((await me(other)).body).toMatchObject({ email, has_password: true });
    await signIn(b, email);
  });
});
