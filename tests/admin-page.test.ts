import { expect, test } from "bun:test";
import { sql } from "slonik";
import { findUserById } from "../sql/users.ts";
import { appTestSetup } from "./support/app.ts";
import { crossSitePoster, formPoster } from "./support/requests.ts";
import { signedInUser } from "./support/sign-in.ts";

const { db, app } = await appTestSetup();

const admin = () => signedInUser(db.pool, app.config, { role: "admin", isWhitelisted: true });

const postForm = formPoster(app);

test("the admin page lists pending users with approve and deny buttons", async () => {
  const { cookie } = await admin();
  const pending = await signedInUser(db.pool, app.config, { fullName: "Pending <b>Person</b>" });
  const response = await app.request("/admin", { headers: { cookie } });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("text/html");
  const html = await response.text();
  expect(html).toContain(pending.user.email ?? "<none>");
  expect(html).toContain(`action="/admin/forms/users/${pending.user.id}"`);
  expect(html).toContain('value="approve"');
  expect(html).toContain('value="deny"');
  // User-controlled text is escaped, never markup.
  expect(html).toContain("Pending &lt;b&gt;Person&lt;/b&gt;");
  expect(html).not.toContain("<b>Person</b>");
});

test("approving through the form lets the user in and redirects back with a notice", async () => {
  const { user: actor, cookie } = await admin();
  const pending = await signedInUser(db.pool, app.config);
  const response = await postForm(`/admin/forms/users/${pending.user.id}`, cookie, {
    action: "approve",
    back: "/admin",
  });
  expect(response.status).toBe(303);
  expect(response.headers.get("location")).toStartWith("/admin?notice=");
  expect((await findUserById(db.pool, pending.user.id))?.is_whitelisted).toBe(true);
  const me = await app.request("/me", { headers: { cookie: pending.cookie } });
  expect(await me.json()).toMatchObject({ is_whitelisted: true });
  const actorId = await db.pool.oneFirst(sql.unsafe`
    SELECT actor_id FROM audit_events
    WHERE user_id = ${pending.user.id} AND event_type = 'admin.user_updated'`);
  expect(actorId).toBe(actor.id);

  const page = await app.request(response.headers.get("location") ?? "/admin", {
    headers: { cookie },
  });
  expect(await page.text()).toContain("Approved");
});

test("denying through the form marks the user denied and signs them out", async () => {
  const { cookie } = await admin();
  const pending = await signedInUser(db.pool, app.config);
  const response = await postForm(`/admin/forms/users/${pending.user.id}`, cookie, {
    action: "deny",
    reason: "Not expected here.",
  });
  expect(response.status).toBe(303);
  expect((await findUserById(db.pool, pending.user.id))?.status).toBe("denied");
  expect((await app.request("/me", { headers: { cookie: pending.cookie } })).status).toBe(401);
});

test("a cross-site form post is refused and changes nothing", async () => {
  const { cookie } = await admin();
  const pending = await signedInUser(db.pool, app.config);
  const response = await crossSitePoster(app)(`/admin/forms/users/${pending.user.id}`, cookie, {
    action: "approve",
  });
  expect(response.status).toBe(403);
  expect((await findUserById(db.pool, pending.user.id))?.is_whitelisted).toBe(false);
});

test("the back field cannot redirect off the admin pages", async () => {
  const { cookie } = await admin();
  const target = await signedInUser(db.pool, app.config);
  const response = await postForm(`/admin/forms/users/${target.user.id}`, cookie, {
    action: "approve",
    back: "https://evil.example/",
  });
  expect(response.status).toBe(400);
  expect((await findUserById(db.pool, target.user.id))?.is_whitelisted).toBe(false);
});

test("a user's page shows their sessions and audit trail", async () => {
  const { cookie } = await admin();
  const target = await signedInUser(db.pool, app.config, { isWhitelisted: true });
  await postForm(`/admin/forms/users/${target.user.id}`, cookie, {
    action: "revoke_sessions",
    confirmed: "yes",
  });
  const response = await app.request(`/admin/view/users/${target.user.id}`, {
    headers: { cookie },
  });
  expect(response.status).toBe(200);
  const html = await response.text();
  expect(html).toContain("127.0.0.1");
  expect(html).toContain("revoked (admin:revoked)");
  expect(html).toContain("admin.sessions_revoked");
});

test("allowlist rules are added and deleted through the page's forms", async () => {
  const { cookie } = await admin();
  const added = await postForm("/admin/forms/allowlist", cookie, {
    kind: "domain",
    value: "Example.NET",
  });
  expect(added.status).toBe(303);
  const id = await db.pool.oneFirst(sql.unsafe`
    SELECT id FROM allowlist_rules WHERE kind = 'domain' AND value = 'example.net'`);
  const page = await (await app.request("/admin/view/allowlist", { headers: { cookie } })).text();
  expect(page).toContain("example.net");

  const bad = await postForm("/admin/forms/allowlist", cookie, { kind: "domain", value: "nope" });
  expect(bad.status).toBe(303);
  const location = new URL(bad.headers.get("location") ?? "", app.url);
  expect(location.searchParams.get("error")).toBe("rule_invalid");
  const explained = await (
    await app.request(`${location.pathname}${location.search}`, { headers: { cookie } })
  ).text();
  expect(explained).toContain("Rule not added");

  const deleted = await postForm(`/admin/forms/allowlist/${id}/delete`, cookie, {
    confirmed: "yes",
  });
  expect(deleted.status).toBe(303);
  expect(await db.pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM allowlist_rules`)).toBe(0);
});

test("the last admin's refusal is shown on the page, not as an error", async () => {
  await db.pool.query(sql.unsafe`UPDATE users SET role = 'user' WHERE role = 'admin'`);
  const { user, cookie } = await admin();
  const response = await postForm(`/admin/forms/users/${user.id}`, cookie, {
    action: "remove_admin",
    back: `/admin/view/users/${user.id}`,
  });
  expect(response.status).toBe(303);
  expect(response.headers.get("location")).toContain("error=");
  expect((await findUserById(db.pool, user.id))?.role).toBe("admin");
});

test("the page's notice and error come from fixed messages named by a code, never from the query string's text", async () => {
  const { cookie } = await admin();
  const planted = "Session expired: sign in again at https://evil.example";
  const forged = await app.request(
    `/admin?notice=${encodeURIComponent(planted)}&error=${encodeURIComponent(planted)}`,
    { headers: { cookie } },
  );
  expect(forged.status).toBe(200);
  const html = await forged.text();
  expect(html).not.toContain("evil.example");
  expect(html).not.toContain('class="notice"');
  expect(html).not.toContain('class="error"');

  const named = await app.request("/admin?notice=revoke_sessions&error=last_admin", {
    headers: { cookie },
  });
  const text = await named.text();
  expect(text).toContain('<p class="notice" role="status">Signed out everywhere.</p>');
  expect(text).toContain("This is the last administrator");
});

test("anonymous visitors are sent to sign in; non-admins see a 403 page", async () => {
  const anonymous = await app.request("/admin", { redirect: "manual" });
  expect(anonymous.status).toBe(302);
  expect(anonymous.headers.get("location")).toBe("/?redirect_to=%2Fadmin");
  const { user, cookie } = await signedInUser(db.pool, app.config, { isWhitelisted: true });
  const refused = await app.request("/admin", { headers: { cookie } });
  expect(refused.status).toBe(403);
  expect(await refused.text()).toContain("Administrators only");
  const form = await postForm(`/admin/forms/users/${user.id}`, cookie, { action: "make_admin" });
  expect(form.status).toBe(403);
  expect((await findUserById(db.pool, user.id))?.role).toBe("user");
  const anonymousForm = await app.request(`/admin/forms/users/${user.id}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: "action=make_admin",
  });
  expect(anonymousForm.status).toBe(401);
});

test("an admin's signed-in home links to the admin console; a member's does not", async () => {
  const home = async (cookie: string) =>
    (await app.request("/", { headers: { cookie, accept: "text/html" } })).text();
  expect(await home((await admin()).cookie)).toContain('href="/admin"');
  const member = await signedInUser(db.pool, app.config, { isWhitelisted: true });
  expect(await home(member.cookie)).not.toContain('href="/admin"');
});
