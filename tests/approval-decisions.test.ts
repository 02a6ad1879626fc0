import { describe, expect, test } from "bun:test";
import { sql } from "slonik";
import { startTestApp } from "./support/app.ts";
import { createTestDatabase } from "./support/database.ts";
import { startMailingApp } from "./support/mailing-app.ts";
import { formPoster, jsonSender } from "./support/requests.ts";
import { approvedPasswordUser, knownPassword, signedInUser } from "./support/sign-in.ts";

// An administrator's decision on a user waiting for approval: approving
// mails them a link to the app, denying (with a reason) mails them the
// reason and keeps the account as `denied`, which cannot sign in nor queue
// again; either is reversible and audited. Mail goes to a real SMTP server.

const appUrl = "https://app.example.test/welcome";
const { pool, smtp, app } = await startMailingApp({
  APPROVED_REDIRECT_URL: appUrl,
  APPROVAL_DIGEST_INTERVAL: "1h",
});

const send = jsonSender(app);
const postForm = formPoster(app);
const admin = () => signedInUser(pool, app.config, { role: "admin", isWhitelisted: true });
/** Someone waiting for approval, with a confirmed address and knownPassword. */
const waitingUser = () => approvedPasswordUser(pool, app.config, { isWhitelisted: false });

const stateOf = (id: string) =>
  pool.one(sql.unsafe`
    SELECT status, is_whitelisted FROM users WHERE id = ${id}`) as Promise<{
    status: string;
    is_whitelisted: boolean;
  }>;
const auditOf = (userId: string, eventType: string) =>
  pool.any(sql.unsafe`
    SELECT actor_id, context FROM audit_events
    WHERE user_id = ${userId} AND event_type = ${eventType} ORDER BY occurred_at`) as Promise<
    readonly { actor_id: string | null; context: Record<string, unknown> }[]
  >;
const auditCount = () => pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM audit_events`);
/** The admin console's approval queue. */
async function pendingSection(cookie: string): Promise<string> {
  const page = await (await app.request("/admin", { headers: { cookie } })).text();
  const start = page.indexOf('<section id="pending"');
  return page.slice(start, page.indexOf("</section>", start));
}
const mailsTo = (to: string) => smtp.received.filter((m) => m.to.includes(to));

const login = (email: string) =>
  app.request("/auth/login", {
    method: "POST",
    headers: { "content-type": "application/json", origin: app.config.http.PUBLIC_URL },
    body: JSON.stringify({ email, password: knownPassword }),
  });

describe("approving", () => {
  test("approving through the API mails the user a link to the app and audits user.approved", async () => {
    const { cookie, user: by } = await admin();
    const user = await waitingUser();
    const response = await send("PATCH", `/admin/users/${user.id}`, cookie, {
      is_whitelisted: true,
    });
    expect(response.status).toBe(200);
    const mail = await smtp.waitForMail(user.email ?? "", /approved/);
    expect(mail.source).toContain(appUrl);
    expect(await auditOf(user.id, "user.approved")).toEqual([
      { actor_id: by.id, context: { previous_status: "active" } },
    ]);
  });

  test("the admin page's Approve button mails the user too", async () => {
    const { cookie } = await admin();
    const user = await waitingUser();
    const response = await postForm(`/admin/forms/users/${user.id}`, cookie, {
      action: "approve",
      back: "/admin",
    });
    expect(response.headers.get("location")).toBe("/admin?notice=approve");
    expect(await stateOf(user.id)).toEqual({ status: "active", is_whitelisted: true });
    await smtp.waitForMail(user.email ?? "", /approved/);
  });

  test("two administrators approving the same user at once send one mail", async () => {
    const [first, second] = [await admin(), await admin()];
    const user = await waitingUser();
    const answers = await Promise.all(
      [first, second].map((a) =>
        send("PATCH", `/admin/users/${user.id}`, a.cookie, { is_whitelisted: true }),
      ),
    );
    expect(answers.map((r) => r.status)).toEqual([200, 200]);
    await smtp.waitForMail(user.email ?? "", /approved/);
    await Bun.sleep(300);
    expect(mailsTo(user.email ?? "")).toHaveLength(1);
    expect(await auditOf(user.id, "user.approved")).toHaveLength(1);
  });

  test("re-activating an approved user who was deactivated sends no approval mail", async () => {
    const { cookie } = await admin();
    const user = await waitingUser();
    await send("PATCH", `/admin/users/${user.id}`, cookie, { is_whitelisted: true });
    await smtp.waitForMail(user.email ?? "", /approved/);
    await send("PATCH", `/admin/users/${user.id}`, cookie, { status: "inactive" });
    await send("PATCH", `/admin/users/${user.id}`, cookie, { status: "active" });
    await Bun.sleep(300);
    expect(mailsTo(user.email ?? "")).toHaveLength(1);
    expect(await auditOf(user.id, "user.approved")).toHaveLength(1);
  });
});

describe("denying", () => {
  test("denying with a reason keeps the account as denied, mails the reason and audits user.denied", async () => {
    const { cookie, user: by } = await admin();
    const user = await waitingUser();
    const response = await send("PATCH", `/admin/users/${user.id}`, cookie, {
      status: "denied",
      reason: "Not a member of the lab <b>team</b>.",
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "denied", is_whitelisted: false });
    const mail = await smtp.waitForMail(user.email ?? "", /not approved/);
    expect(mail.source).toContain("Not a member of the lab <b>team</b>.");
    expect(mail.source).toContain("Not a member of the lab &lt;b&gt;team&lt;/b&gt;.");
    expect(await auditOf(user.id, "user.denied")).toEqual([
      { actor_id: by.id, context: { reason: "Not a member of the lab <b>team</b>." } },
    ]);
  });

  test("the admin page's Deny form takes the reason and mails it", async () => {
    const { cookie } = await admin();
    const user = await waitingUser();
    const response = await postForm(`/admin/forms/users/${user.id}`, cookie, {
      action: "deny",
      back: "/admin",
      reason: "Unknown to us.",
    });
    expect(response.headers.get("location")).toBe("/admin?notice=deny");
    expect(await stateOf(user.id)).toEqual({ status: "denied", is_whitelisted: false });
    const mail = await smtp.waitForMail(user.email ?? "", /not approved/);
    expect(mail.source).toContain("Unknown to us.");
  });

  test("the Deny form without a reason is refused and changes nothing", async () => {
    const { cookie } = await admin();
    const user = await waitingUser();
    const before = await auditCount();
    const response = await postForm(`/admin/forms/users/${user.id}`, cookie, {
      action: "deny",
      back: "/admin",
    });
    expect(response.headers.get("location")).toBe("/admin?error=validation_failed");
    expect(await stateOf(user.id)).toEqual({ status: "active", is_whitelisted: false });
    expect(await auditCount()).toBe(before);
  });

  test("a denied user cannot sign in", async () => {
    const { cookie } = await admin();
    const user = await waitingUser();
    expect((await login(user.email ?? "")).status).toBe(200);
    await send("PATCH", `/admin/users/${user.id}`, cookie, { status: "denied", reason: "No." });
    const response = await login(user.email ?? "");
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ code: "account_inactive" });
  });

  test("denying ends the user's sessions", async () => {
    const { cookie } = await admin();
    const denied = await signedInUser(pool, app.config, {});
    await send("PATCH", `/admin/users/${denied.user.id}`, cookie, {
      status: "denied",
      reason: "No.",
    });
    expect((await app.request("/me", { headers: { cookie: denied.cookie } })).status).toBe(401);
  });

  test("signing up again with a denied address does not put it back in the queue", async () => {
    const { cookie } = await admin();
    const user = await waitingUser();
    await send("PATCH", `/admin/users/${user.id}`, cookie, { status: "denied", reason: "No." });
    const usersBefore = await pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM users`);
    const signup = await send("POST", "/auth/signup", null, {
      email: user.email,
      password: "another fine password 123",
    });
    expect(signup.status).toBe(201);
    expect(await pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM users`)).toBe(usersBefore);
    expect(await stateOf(user.id)).toEqual({ status: "denied", is_whitelisted: false });
    expect(await pendingSection(cookie)).not.toContain(user.email ?? "<none>");
  });

  test("forward-auth names a denied account in X-Auth-Reason", async () => {
    const signedIn = await signedInUser(pool, app.config, { isWhitelisted: true });
    // Denying revokes sessions; this one is left alive to see what the gate says.
    await pool.query(sql.unsafe`UPDATE users SET status = 'denied' WHERE id = ${signedIn.user.id}`);
    const response = await app.request("/auth/verify", { headers: { cookie: signedIn.cookie } });
    expect(response.status).toBe(403);
    expect(response.headers.get("x-auth-reason")).toBe("denied");
  });
});

describe("reversing a denial", () => {
  test("approving a denied user lets them in at once and mails them", async () => {
    const { cookie } = await admin();
    const user = await waitingUser();
    await send("PATCH", `/admin/users/${user.id}`, cookie, { status: "denied", reason: "No." });
    const response = await send("PATCH", `/admin/users/${user.id}`, cookie, {
      is_whitelisted: true,
    });
    expect(await response.json()).toMatchObject({ status: "active", is_whitelisted: true });
    await smtp.waitForMail(user.email ?? "", /approved/);
    expect(await auditOf(user.id, "user.approved")).toMatchObject([
      { context: { previous_status: "denied" } },
    ]);
    expect((await login(user.email ?? "")).status).toBe(200);
  });

  test("setting a denied user active puts them back in the queue", async () => {
    const { cookie } = await admin();
    const user = await waitingUser();
    await send("PATCH", `/admin/users/${user.id}`, cookie, { status: "denied", reason: "No." });
    await send("PATCH", `/admin/users/${user.id}`, cookie, { status: "active" });
    expect(await stateOf(user.id)).toEqual({ status: "active", is_whitelisted: false });
    expect(await pendingSection(cookie)).toContain(user.email ?? "<none>");
  });
});

describe("refusals", () => {
  const badBodies: [string, unknown][] = [
    ["a denial without a reason", { status: "denied" }],
    ["a denial with an empty reason", { status: "denied", reason: "  " }],
    ["a reason without a denial", { is_whitelisted: true, reason: "why not" }],
    ["a denial that also approves", { status: "denied", reason: "No.", is_whitelisted: true }],
    ["a reason too long", { status: "denied", reason: "x".repeat(501) }],
    ["a reason with control characters", { status: "denied", reason: "no\u0000pe" }],
    ["a reason alone", { reason: "No." }],
  ];
  for (const [name, body] of badBodies) {
    test(`${name} is a 400 problem and writes nothing`, async () => {
      const { cookie } = await admin();
      const user = await waitingUser();
      const before = await auditCount();
      const response = await send("PATCH", `/admin/users/${user.id}`, cookie, body);
      expect(response.status).toBe(400);
      expect(response.headers.get("content-type")).toContain("application/problem+json");
      expect(await response.json()).toMatchObject({ code: "validation_failed" });
      expect(await stateOf(user.id)).toEqual({ status: "active", is_whitelisted: false });
      expect(await auditCount()).toBe(before);
    });
  }

  test("denying the last administrator is refused with last_admin", async () => {
    // Its own database: the rule counts every administrator there is.
    const db = await createTestDatabase();
    const lone = await startTestApp(db.pool);
    try {
      const only = await signedInUser(db.pool, lone.config, { role: "admin", isWhitelisted: true });
      const response = await jsonSender(lone)(
        "PATCH",
        `/admin/users/${only.user.id}`,
        only.cookie,
        {
          status: "denied",
          reason: "No.",
        },
      );
      expect(response.status).toBe(409);
      expect(await response.json()).toMatchObject({ code: "last_admin" });
    } finally {
      await lone.close();
      await db.drop();
    }
  });
});

describe("the admin page", () => {
  test("shows how many users are waiting for approval", async () => {
    const { cookie } = await admin();
    await waitingUser();
    const waiting = await pool.oneFirst(sql.unsafe`
      SELECT count(*)::int FROM users WHERE status = 'active' AND NOT is_whitelisted`);
    const page = await (await app.request("/admin", { headers: { cookie } })).text();
    expect(page).toContain(
      waiting === 1
        ? "1 person is waiting for approval"
        : `${waiting} people are waiting for approval`,
    );
    expect(page).toContain(`<span class="count">${waiting}<span class="vh"> waiting</span>`);
    expect(page).toContain('name="reason"');
  });
});
