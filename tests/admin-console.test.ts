import { describe, expect, test } from "bun:test";
import { sql } from "slonik";
import { upsertAllowlistRule } from "../sql/allowlist-rules.ts";
import { insertAuditEvent } from "../sql/audit-events.ts";
import { findSessionById } from "../sql/sessions.ts";
import { findUserByEmail, findUserById, insertUser } from "../sql/users.ts";
import { hashPassword } from "../src/password/hashing.ts";
import { consoleTestSetup, expectInvalidForm } from "./support/admin-console.ts";
import { startTestApp } from "./support/app.ts";
import { crossSitePoster, jsonSender } from "./support/requests.ts";
import { knownPassword, linkTokenlessAccount, signedInUser } from "./support/sign-in.ts";

// The admin console's screens and forms, through real requests: the
// approval queue, users, one user, the audit log, the allowlist, and the
// confirmation step in front of every destructive action.

const { pool, app, postForm, admin: newAdmin, page } = await consoleTestSetup();
const crossSite = crossSitePoster(app);
const send = jsonSender(app);
let counter = 0;

const admin = (fullName = "Ada Admin") => newAdmin({ fullName });
const member = () => signedInUser(pool, app.config, { isWhitelisted: true });
/** Makes the user's sessions' last proof of identity a day old: writes need a step-up. */
const makeStale = (userId: string) =>
  pool.query(sql.unsafe`
    UPDATE sessions SET authenticated_at = now() - interval '1 day' WHERE user_id = ${userId}`);
const statusOf = async (id: string) => (await findUserById(pool, id))?.status;
const liveSessions = (userId: string) =>
  pool.oneFirst(sql.unsafe`
    SELECT count(*)::int FROM sessions WHERE user_id = ${userId} AND revoked_at IS NULL`);

describe("the approval queue", () => {
  test("shows each newcomer's address state, sign-in method and how they arrived", async () => {
    const { cookie } = await admin();
    const email = `newcomer${++counter}@example.com`;
    const signup = await send("POST", "/auth/signup", null, { email, password: knownPassword });
    expect(signup.status).toBe(201);
    const newcomer = await findUserByEmail(pool, email);
    // A first sign-in with GitHub, as provider-sign-in.ts records it.
    const viaProvider = await pool.transaction(async (tx) => {
      const user = await insertUser(tx, {
        email: `octo${++counter}@example.com`,
        emailVerified: true,
      });
      await linkTokenlessAccount(tx, {
        userId: user.id,
        providerUserId: String(counter),
        email: user.email,
      });
      await insertAuditEvent(tx, {
        eventType: "user.created",
        result: "success",
        userId: user.id,
        context: { provider: "github" },
      });
      return user;
    });

    const { html } = await page("/admin", cookie);
    const rowOf = (id: string) =>
      html.slice(html.indexOf(`/admin/view/users/${id}"`)).split("</tr>")[0] ?? "";
    const passwordRow = rowOf(newcomer?.id ?? "");
    expect(passwordRow).toContain("unverified");
    expect(passwordRow).toContain('<td data-label="Signs in with">password</td>');
    expect(passwordRow).toContain("signed up with a password");
    const providerRow = rowOf(viaProvider.id);
    expect(providerRow).toContain('<span class="badge verified">verified</span>');
    expect(providerRow).toContain('<td data-label="Signs in with">github</td>');
    expect(providerRow).toContain("first signed in with github");
  });

  test("the deny reason has its own label, inside the Deny form", async () => {
    const { cookie } = await admin();
    const pending = await signedInUser(pool, app.config);
    const { html } = await page("/admin", cookie);
    const id = `deny-reason-${pending.user.id}`;
    expect(html).toContain(`<label for="${id}">Reason for denying (sent to the user)</label>`);
    const form = html.slice(html.lastIndexOf("<form", html.indexOf(`id="${id}"`)));
    expect(form.slice(0, form.indexOf("</form>"))).toContain('value="deny"');
  });

  test("denying without a reason is a 400 and leaves the user waiting", async () => {
    const { cookie } = await admin();
    const pending = await signedInUser(pool, app.config);
    const response = await postForm(`/admin/forms/users/${pending.user.id}`, cookie, {
      action: "deny",
      back: "/admin",
    });
    expectInvalidForm(response, "/admin");
    expect(await statusOf(pending.user.id)).toBe("active");
  });
});

describe("the frame", () => {
  test("the header names the signed-in administrator, offers sign-out and counts those waiting", async () => {
    const { cookie } = await admin("Grace Hopper");
    await signedInUser(pool, app.config);
    const waiting = await pool.oneFirst(sql.unsafe`
      SELECT count(*)::int FROM users WHERE NOT is_whitelisted AND status = 'active'`);
    for (const path of [
      "/admin",
      "/admin/view/users",
      "/admin/view/audit",
      "/admin/view/allowlist",
    ]) {
      const { html } = await page(path, cookie);
      expect(html).toContain("Signed in as <strong>Grace Hopper</strong>");
      expect(html).toContain('<form method="post" action="/sign-out">');
      expect(html).toContain(`<span class="count">${waiting}<span class="vh"> waiting</span>`);
      expect(html.match(/<h1[ >]/g)).toHaveLength(1);
    }
  });

  test("a member's 403 page shows no admin navigation", async () => {
    const { cookie } = await member();
    for (const path of ["/admin", "/admin/view/users", "/admin/view/audit"]) {
      const { status, html } = await page(path, cookie);
      expect(status).toBe(403);
      expect(html).toContain("Administrators only");
      expect(html).not.toContain('aria-label="Admin"');
      expect(html).not.toContain("/admin/view/");
    }
  });

  test("an unknown user, or an action without a confirmation step, is a 404 page", async () => {
    const { cookie } = await admin();
    const target = await member();
    for (const path of [
      `/admin/view/users/${crypto.randomUUID()}`,
      "/admin/view/users/not-a-uuid",
      `/admin/view/users/${target.user.id}/confirm/approve`,
      `/admin/view/allowlist/${crypto.randomUUID()}/delete`,
    ]) {
      expect(`${path} ${(await page(path, cookie)).status}`).toBe(`${path} 404`);
    }
  });
});

describe("the confirmation step", () => {
  test.each(["delete", "deactivate", "revoke_sessions", "reset_mfa"])(
    "%s posted without its confirmation changes nothing and leads to the confirmation page",
    async (action) => {
      const { cookie } = await admin();
      const target = await member();
      const response = await postForm(`/admin/forms/users/${target.user.id}`, cookie, {
        action,
        back: `/admin/view/users/${target.user.id}`,
      });
      expect(response.status).toBe(303);
      expect(response.headers.get("location")).toBe(
        `/admin/view/users/${target.user.id}/confirm/${action}`,
      );
      expect(await statusOf(target.user.id)).toBe("active");
      expect(await liveSessions(target.user.id)).toBe(1);
    },
  );

  test("the confirmation page names the user, posts the action confirmed, and Cancel goes back", async () => {
    const { cookie } = await admin();
    const target = await member();
    const userPage = `/admin/view/users/${target.user.id}`;
    const { status, html } = await page(`${userPage}/confirm/delete`, cookie);
    expect(status).toBe(200);
    expect(html).toContain("<h1>Are you sure?</h1>");
    expect(html).toContain(`Delete the account of <strong>${target.user.email}</strong>?`);
    expect(html).toContain(`action="/admin/forms/users/${target.user.id}"`);
    expect(html).toContain('name="confirmed" value="yes"');
    expect(html).toContain(`<a class="button" href="${userPage}">Cancel</a>`);
  });

  /** The confirmation page's form, posted: delete the user, then back to the users list. */
  const confirmDeletion = (userId: string, cookie: string) =>
    postForm(`/admin/forms/users/${userId}`, cookie, {
      action: "delete",
      back: "/admin/view/users",
      confirmed: "yes",
    });

  test("confirming a deletion deletes the account and goes back to the users list", async () => {
    const { cookie } = await admin();
    const target = await member();
    const response = await confirmDeletion(target.user.id, cookie);
    expect(response.headers.get("location")).toBe("/admin/view/users?notice=delete");
    expect(await statusOf(target.user.id)).toBe("deleted");
  });

  test("a stale administrator's confirmed deletion is sent to the step-up and changes nothing", async () => {
    const actor = await admin();
    const target = await member();
    await makeStale(actor.user.id);
    const response = await confirmDeletion(target.user.id, actor.cookie);
    expect(response.headers.get("location")).toBe("/admin/view/users?error=reauth_required");
    expect(await statusOf(target.user.id)).toBe("active");
  });

  test("a confirmation field other than yes is a 400 and changes nothing", async () => {
    const { cookie } = await admin();
    const target = await member();
    const response = await postForm(`/admin/forms/users/${target.user.id}`, cookie, {
      action: "delete",
      confirmed: "sure",
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: "validation_failed" });
    expect(await statusOf(target.user.id)).toBe("active");
  });

  test("a cross-site confirmed rule deletion is refused and the rule stays", async () => {
    const { cookie } = await admin();
    await postForm("/admin/forms/allowlist", cookie, { kind: "domain", value: "csrf.example" });
    const id = await pool.oneFirst(sql.unsafe`
      SELECT id FROM allowlist_rules WHERE value = 'csrf.example'`);
    const response = await crossSite(`/admin/forms/allowlist/${id}/delete`, cookie, {
      confirmed: "yes",
    });
    expect(response.status).toBe(403);
    expect(
      await pool.oneFirst(sql.unsafe`
        SELECT count(*)::int FROM allowlist_rules WHERE id = ${String(id)}`),
    ).toBe(1);
  });

  test("a rule's confirmation says how many users lose access; a changed count refuses the deletion", async () => {
    const { cookie } = await admin();
    const id = String(
      await pool.oneFirst(sql.unsafe`
        INSERT INTO allowlist_rules (kind, value) VALUES ('domain', 'impact.example') RETURNING id`),
    );
    const covered = await signedInUser(pool, app.config, {
      email: "one@impact.example",
      isWhitelisted: true,
      approvedByRuleId: id,
    });
    const { html } = await page(`/admin/view/allowlist/${id}/delete`, cookie);
    expect(html).toContain("1 user only it lets in will lose access");
    expect(html).toContain('name="expected_unapproved" value="1"');
    const stale = await postForm(`/admin/forms/allowlist/${id}/delete`, cookie, {
      confirmed: "yes",
      expected_unapproved: "0",
    });
    expect(stale.headers.get("location")).toContain("error=rule_impact_changed");
    expect((await findUserById(pool, covered.user.id))?.is_whitelisted).toBe(true);
    const deleted = await postForm(`/admin/forms/allowlist/${id}/delete`, cookie, {
      confirmed: "yes",
      expected_unapproved: "1",
    });
    expect(deleted.headers.get("location")).toContain("notice=rule_deleted");
    expect((await findUserById(pool, covered.user.id))?.is_whitelisted).toBe(false);
    expect((await app.request("/me", { headers: { cookie: covered.cookie } })).status).toBe(401);
  });

  test("deleting an allowlist rule without its confirmation changes nothing and shows the question", async () => {
    const { cookie } = await admin();
    await postForm("/admin/forms/allowlist", cookie, { kind: "domain", value: "confirm.example" });
    const id = await pool.oneFirst(sql.unsafe`
      SELECT id FROM allowlist_rules WHERE value = 'confirm.example'`);
    const response = await postForm(`/admin/forms/allowlist/${id}/delete`, cookie, {});
    expect(response.headers.get("location")).toBe(`/admin/view/allowlist/${id}/delete`);
    const { html } = await page(`/admin/view/allowlist/${id}/delete`, cookie);
    expect(html).toContain("Delete the allowlist rule <strong>domain confirm.example</strong>?");
    expect(
      await pool.oneFirst(sql.unsafe`
        SELECT count(*)::int FROM allowlist_rules WHERE id = ${String(id)}`),
    ).toBe(1);
  });
});

describe("the allowlist", () => {
  test("each rule says how many waiting users it would let in at their next sign-in", async () => {
    const { cookie } = await admin();
    const at = (name: string) => `${name}-${++counter}@reach.example`;
    await signedInUser(pool, app.config, { email: at("waiting") });
    await signedInUser(pool, app.config, { email: at("also-waiting") });
    await signedInUser(pool, app.config, { email: at("unconfirmed"), emailVerified: false });
    await signedInUser(pool, app.config, { email: at("approved"), isWhitelisted: true });
    for (const [kind, value] of [
      ["domain", "reach.example"],
      ["email", "nobody@reach.example"],
      ["github_org", "reach"],
    ] as const) {
      await postForm("/admin/forms/allowlist", cookie, { kind, value });
    }
    const { html } = await page("/admin/view/allowlist", cookie);
    const rowOf = (value: string) =>
      html.slice(html.indexOf(`<code>${value}</code>`)).split("</tr>")[0] ?? "";
    expect(rowOf("reach.example")).toContain("2 waiting users, at their next sign-in");
    expect(rowOf("nobody@reach.example")).toContain("nobody waiting");
    expect(rowOf("reach")).toContain("known at their GitHub sign-in");
  });
});

describe("one user's sessions", () => {
  async function targetWithTwoSessions() {
    const target = await member();
    const second = await signedInUser(pool, app.config, {
      email: `second${++counter}@example.com`,
    });
    // The second session moves to the target, so they have two.
    await pool.query(sql.unsafe`
      UPDATE sessions SET user_id = ${target.user.id} WHERE id = ${second.sessionId}`);
    return { target, otherSessionId: second.sessionId };
  }

  test("revoking one session ends only that one, audited with the administrator", async () => {
    const actor = await admin();
    const { target, otherSessionId } = await targetWithTwoSessions();
    const response = await postForm(
      `/admin/forms/users/${target.user.id}/sessions/${target.sessionId}/revoke`,
      actor.cookie,
      {},
    );
    expect(response.headers.get("location")).toBe(
      `/admin/view/users/${target.user.id}?notice=session_revoked`,
    );
    expect((await findSessionById(pool, target.sessionId))?.revoked_reason).toBe("admin:revoked");
    expect((await findSessionById(pool, otherSessionId))?.revoked_at).toBeNull();
    expect((await app.request("/me", { headers: { cookie: target.cookie } })).status).toBe(401);
    const actorId = await pool.oneFirst(sql.unsafe`
      SELECT actor_id FROM audit_events
      WHERE user_id = ${target.user.id} AND event_type = 'admin.sessions_revoked'
        AND context->>'scope' = 'one'`);
    expect(actorId).toBe(actor.user.id);
  });

  test("another user's session, an unknown one or a malformed id is refused and nothing ends", async () => {
    const { cookie } = await admin();
    const target = await member();
    const bystander = await member();
    for (const session of [bystander.sessionId, crypto.randomUUID(), "nope"]) {
      const response = await postForm(
        `/admin/forms/users/${target.user.id}/sessions/${session}/revoke`,
        cookie,
        {},
      );
      expect(response.headers.get("location")).toBe(
        `/admin/view/users/${target.user.id}?error=session_not_found`,
      );
    }
    expect(await liveSessions(bystander.user.id)).toBe(1);
    expect(await liveSessions(target.user.id)).toBe(1);
  });

  test("a stale administrator is sent to the step-up and the session stays", async () => {
    const actor = await admin();
    const target = await member();
    await makeStale(actor.user.id);
    const response = await postForm(
      `/admin/forms/users/${target.user.id}/sessions/${target.sessionId}/revoke`,
      actor.cookie,
      {},
    );
    expect(response.headers.get("location")).toBe(
      `/admin/view/users/${target.user.id}?error=reauth_required`,
    );
    expect(await liveSessions(target.user.id)).toBe(1);
  });

  test("a cross-site post is refused and the session stays", async () => {
    const { cookie } = await admin();
    const target = await member();
    const response = await crossSite(
      `/admin/forms/users/${target.user.id}/sessions/${target.sessionId}/revoke`,
      cookie,
    );
    expect(response.status).toBe(403);
    expect(await liveSessions(target.user.id)).toBe(1);
  });

  test("the user page lists linked providers, the sessions with their Revoke buttons and a link to the full log", async () => {
    const { cookie } = await admin();
    const target = await member();
    const { html } = await page(`/admin/view/users/${target.user.id}`, cookie);
    expect(html).toContain(`/sessions/${target.sessionId}/revoke`);
    expect(html).toContain("Linked providers");
    expect(html).toContain(`/admin/view/audit?user_id=${target.user.id}`);
  });
});

describe("why a user is (not) let in", () => {
  const panelOf = (html: string) =>
    html.slice(html.indexOf('<section aria-labelledby="access-heading"')).split("</section>")[0] ??
    "";
  /** The panel on the user's page, as the administrator with `cookie` sees it. */
  const panelFor = async (userId: string, cookie: string) =>
    panelOf((await page(`/admin/view/users/${userId}`, cookie)).html);

  test("the user page says which administrator approved them, and when", async () => {
    const actor = await admin();
    const byHand = await signedInUser(pool, app.config);
    await postForm(`/admin/forms/users/${byHand.user.id}`, actor.cookie, { action: "approve" });
    const panel = await panelFor(byHand.user.id, actor.cookie);
    expect(panel).toContain("Why this user is let in");
    expect(panel).toContain(
      `Approved by <a href="/admin/view/users/${actor.user.id}">${actor.user.email}</a> on `,
    );
    expect(panel).not.toContain("What keeps them out");
  });

  test("a user an allowlist rule let in at sign-in: the page names the rule", async () => {
    const { cookie } = await admin();
    const domain = `ruled${++counter}.example`;
    await upsertAllowlistRule(pool, { kind: "domain", value: domain, createdBy: null });
    const who = await insertUser(pool, {
      email: `someone@${domain}`,
      emailVerified: true,
      passwordHash: await hashPassword(knownPassword, app.config.passwords),
    });
    const login = await send("POST", "/auth/login", null, {
      email: who.email,
      password: knownPassword,
    });
    expect(login.status).toBe(200);
    const panel = await panelFor(who.id, cookie);
    expect(panel).toContain(`Approved by allowlist rule <code>domain ${domain}</code> on `);
  });

  test("a waiting user with an unverified address: not approved, and the address to verify", async () => {
    const { cookie } = await admin();
    const waiting = await signedInUser(pool, app.config, { emailVerified: false });
    const panel = await panelFor(waiting.user.id, cookie);
    expect(panel).toContain("Why this user is not let in");
    expect(panel).toContain("Nobody has approved them yet.");
    expect(panel).toContain('<li data-missing="pending_approval">');
    expect(panel).toContain('<li data-missing="email_unverified">');
  });

  test("a waiting user a rule matches: the rule that lets them in at their next sign-in", async () => {
    const { cookie } = await admin();
    const domain = `next${++counter}.example`;
    await upsertAllowlistRule(pool, { kind: "domain", value: domain, createdBy: null });
    const waiting = await signedInUser(pool, app.config, { email: `w@${domain}` });
    const panel = await panelFor(waiting.user.id, cookie);
    expect(panel).toContain(
      `Allowlist rule <code>domain ${domain}</code> lets them in at their next sign-in.`,
    );
  });

  test("denied and deactivated users: the page says what keeps them out", async () => {
    const actor = await admin();
    const denied = await signedInUser(pool, app.config);
    await postForm(`/admin/forms/users/${denied.user.id}`, actor.cookie, {
      action: "deny",
      reason: "not on the team",
    });
    const deniedPanel = await panelFor(denied.user.id, actor.cookie);
    expect(deniedPanel).toContain('<li data-missing="denied">An administrator denied them access.');
    const inactive = await member();
    await postForm(`/admin/forms/users/${inactive.user.id}`, actor.cookie, {
      action: "deactivate",
      confirmed: "yes",
    });
    const inactivePanel = await panelFor(inactive.user.id, actor.cookie);
    expect(inactivePanel).toContain('<li data-missing="inactive">The account is deactivated.');
  });

  test("under MFA_REQUIRED=admins an administrator without a second factor is missing one", async () => {
    const strict = await startTestApp(pool, { MFA_REQUIRED: "admins" });
    try {
      const { cookie } = await signedInUser(pool, strict.config, {
        role: "admin",
        isWhitelisted: true,
      });
      const bare = await signedInUser(pool, strict.config, { role: "admin", isWhitelisted: true });
      const response = await strict.request(`/admin/view/users/${bare.user.id}`, {
        headers: { cookie },
        redirect: "manual",
      });
      const panel = panelOf(await response.text());
      expect(panel).toContain("Why this user is not let in");
      expect(panel).toContain('<li data-missing="second_factor">');
    } finally {
      await strict.close();
    }
  });
});

describe("the allowlist's dry run", () => {
  const answerOf = (html: string) =>
    html.slice(html.indexOf('<section aria-labelledby="dry-run-heading"')).split("</section>")[0] ??
    "";
  const rules = () => pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM allowlist_rules`);

  test("a rule that matches the user's verified address would let them in; nothing is added", async () => {
    const { cookie } = await admin();
    const target = await signedInUser(pool, app.config, {
      email: `dry${++counter}@dry.example`,
    });
    const before = await rules();
    const response = await postForm("/admin/forms/allowlist/dry-run", cookie, {
      kind: "domain",
      value: "dry.example",
      user: target.user.email ?? "",
    });
    expect(response.status).toBe(200);
    const answer = answerOf(await response.text());
    expect(answer).toContain('<span class="badge verified">would let in</span>');
    expect(answer).toContain('data-reason="matches"');
    expect(answer).toContain(`href="/admin/view/users/${target.user.id}"`);
    // The form keeps what was asked.
    expect(answer).toContain('value="dry.example"');
    expect(await rules()).toBe(before);
  });

  test("by id: an unverified address is not matched, and the answer says why", async () => {
    const { cookie } = await admin();
    const target = await signedInUser(pool, app.config, {
      email: `dry${++counter}@unverified-dry.example`,
      emailVerified: false,
    });
    const response = await postForm("/admin/forms/allowlist/dry-run", cookie, {
      kind: "domain",
      value: "unverified-dry.example",
      user: target.user.id,
    });
    expect(response.status).toBe(200);
    const answer = answerOf(await response.text());
    expect(answer).toContain('<span class="badge unverified">would not let in</span>');
    expect(answer).toContain('data-reason="email_unverified"');
  });

  test("an invalid rule is a 400 and an unknown user a 404, both on the form, changing nothing", async () => {
    const { cookie } = await admin();
    const before = await rules();
    const invalid = await postForm("/admin/forms/allowlist/dry-run", cookie, {
      kind: "domain",
      value: "not a domain",
      user: "someone@example.com",
    });
    expect(invalid.status).toBe(400);
    expect(answerOf(await invalid.text())).toContain('<p role="alert">');
    for (const user of ["nobody@nowhere.example", crypto.randomUUID(), "not-an-id"]) {
      const unknown = await postForm("/admin/forms/allowlist/dry-run", cookie, {
        kind: "domain",
        value: "example.com",
        user,
      });
      expect(unknown.status).toBe(404);
      expect(answerOf(await unknown.text())).toContain("No such user.");
    }
    expect(await rules()).toBe(before);
  });

  test("a cross-site dry run is refused", async () => {
    const { cookie } = await admin();
    const response = await crossSite("/admin/forms/allowlist/dry-run", cookie, {
      kind: "domain",
      value: "example.com",
      user: "someone@example.com",
    });
    expect(response.status).toBe(403);
  });

  test("a member gets the 403 page, not an answer", async () => {
    const { cookie } = await member();
    const response = await postForm("/admin/forms/allowlist/dry-run", cookie, {
      kind: "domain",
      value: "example.com",
      user: "someone@example.com",
    });
    expect(response.status).toBe(403);
    expect(await response.text()).not.toContain("would let in");
  });
});

describe("the users list", () => {
  test("filters by role and pages with a cursor that keeps the filters", async () => {
    const { cookie } = await admin();
    for (let i = 0; i < 3; i++) await admin(`Paged Admin ${i}`);
    const first = await page("/admin/view/users?role=admin&limit=2", cookie);
    expect(first.status).toBe(200);
    const next = /href="(\/admin\/view\/users\?[^"]*cursor=[^"]+)"/.exec(first.html)?.[1];
    expect(next).toBeDefined();
    const nextUrl = new URL(next?.replaceAll("&amp;", "&") ?? "", app.url);
    expect(nextUrl.searchParams.get("role")).toBe("admin");
    const second = await page(`${nextUrl.pathname}${nextUrl.search}`, cookie);
    expect(second.status).toBe(200);
    expect(second.html).toContain("← First page");
    const admins = [...second.html.matchAll(/<span class="badge admin">admin<\/span>/g)].length;
    const rows = [
      ...second.html.matchAll(/<tr><td data-label="User"><a href="\/admin\/view\/users\//g),
    ].length;
    expect(rows).toBeGreaterThan(0);
    expect(admins).toBe(rows);
  });

  test("a bad filter or cursor is a 400 page that says so and lists nobody", async () => {
    const { cookie } = await admin();
    for (const query of ["status=sleeping", "role=owner", "cursor=bm9wZQ"]) {
      const { status, html } = await page(`/admin/view/users?${query}`, cookie);
      expect(`${query} ${status}`).toBe(`${query} 400`);
      expect(html).toContain('class="error"');
      expect(html).not.toContain('<tr><td data-label="User"><a href="/admin/view/users/');
    }
  });

  test("the JSON API filters by role too", async () => {
    const { cookie } = await admin();
    await member();
    const response = await send("GET", "/admin/users?role=admin&limit=200", cookie);
    const { users } = (await response.json()) as { users: { role: string }[] };
    expect(users.length).toBeGreaterThan(0);
    expect(users.every((u) => u.role === "admin")).toBe(true);
  });
});

describe("the audit log", () => {
  test("shows every user's events, filtered by user, type, result and time, a page at a time", async () => {
    const { cookie } = await admin();
    const one = await member();
    const two = await member();
    for (const who of [one, two, one]) {
      await insertAuditEvent(pool, {
        eventType: "login.failed",
        result: "failure",
        userId: who.user.id,
        failureReason: "bad password",
      });
    }
    const all = await page("/admin/view/audit?event_type=login.failed&result=failure", cookie);
    expect(all.status).toBe(200);
    expect(all.html).toContain(one.user.email ?? "<none>");
    expect(all.html).toContain(two.user.email ?? "<none>");

    const onlyOne = await page(
      `/admin/view/audit?user_id=${one.user.id}&event_type=login.failed`,
      cookie,
    );
    expect(onlyOne.html).not.toContain(two.user.email ?? "<none>");
    const rows = [...onlyOne.html.matchAll(/<code class="event">login\.failed<\/code>/g)].length;
    expect(rows).toBe(2);

    const byAddress = await page(
      `/admin/view/audit?user_id=${encodeURIComponent(two.user.email ?? "")}&event_type=login.failed`,
      cookie,
    );
    expect([...byAddress.html.matchAll(/<code class="event">login\.failed<\/code>/g)]).toHaveLength(
      1,
    );
    const unknown = await page("/admin/view/audit?user_id=nobody%40example.com", cookie);
    expect(unknown.html).toContain("No event matches.");

    const future = new Date(Date.now() + 86_400_000).toISOString().slice(0, 16);
    const none = await page(`/admin/view/audit?since=${future}`, cookie);
    expect(none.status).toBe(200);
    expect(none.html).toContain("No event matches.");
  });

  test("pages through the events with a next link that keeps the filters", async () => {
    const { cookie } = await admin();
    const who = await member();
    for (let i = 0; i < 55; i++) {
      await insertAuditEvent(pool, {
        eventType: "paging.test",
        result: "success",
        userId: who.user.id,
      });
    }
    const first = await page("/admin/view/audit?event_type=paging.test", cookie);
    expect([...first.html.matchAll(/<code class="event">paging\.test<\/code>/g)]).toHaveLength(50);
    const next = /href="(\/admin\/view\/audit\?[^"]*cursor=[^"]+)"/.exec(first.html)?.[1] ?? "";
    const second = await page(next.replaceAll("&amp;", "&"), cookie);
    expect([...second.html.matchAll(/<code class="event">paging\.test<\/code>/g)]).toHaveLength(5);
    expect(second.html).not.toContain("Next page");
  });

  test("a bad filter is a 400 page naming it", async () => {
    const { cookie } = await admin();
    for (const query of [
      "user_id=someone",
      "event_type=DROP TABLE",
      "result=maybe",
      "since=2026-02-01T00:00&until=2026-01-01T00:00",
      "cursor=bm9wZQ",
    ]) {
      const { status, html } = await page(`/admin/view/audit?${query}`, cookie);
      expect(`${query} ${status}`).toBe(`${query} 400`);
      expect(html).toContain('class="error"');
    }
  });
});
