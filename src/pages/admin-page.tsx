import { type Context, Hono, type MiddlewareHandler } from "hono";
import type { Child } from "hono/jsx";
import type { DatabasePool } from "slonik";
import { z } from "zod";
import { type AllowlistRule, listAllowlistRules } from "../../sql/allowlist-rules.ts";
import { type AuditEvent, listAuditEvents } from "../../sql/audit-events.ts";
import { listLinkedAccountsOfUser } from "../../sql/oauth-accounts.ts";
import { listSessionsOfUser, type Session } from "../../sql/sessions.ts";
import type { AdministrativeChange } from "../../sql/users.ts";
import { findUserById, listPendingUsers, type User, userStatuses } from "../../sql/users.ts";
import { DomainError, hasCode } from "../errors.ts";
import { addAllowlistRule, deleteAllowlistRuleAudited } from "../gate/allowlist.ts";
import type { AppEnv } from "../http/app-env.ts";
import { decodeCursor, encodeCursor } from "../http/cursor.ts";
import { errorMessage } from "../http/error-map.ts";
import { gateRefusal } from "../http/gate.ts";
import { readBody } from "../http/json-body.ts";
import type { Logger } from "../logger.ts";
import { allowlistRuleBody } from "../routes/admin-allowlist.ts";
import { flashMessages, withFlash } from "../routes/admin-flash.ts";
import { actorOf, targetUserId, userListQuery } from "../routes/admin-users.ts";
import { changeUser, revokeUserAccess } from "../users/administration.ts";
import { deleteAccount } from "../users/deletion.ts";
import { pageOfUsers } from "../users/user-list.ts";
import { HtmlDocument } from "./html-document.tsx";

// The operator's page: server-rendered HTML with plain forms, so it works
// without JavaScript. Forms post to /admin/forms/*, which call the same domain
// functions as the JSON API and redirect back (POST-redirect-GET). The session
// cookie and the CSRF middleware protect them exactly as they protect the API.

const css = `
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2328;background:#f6f8fa}
header{background:#24292f;color:#fff;padding:.8rem 2rem;display:flex;gap:2rem;align-items:center}
header a{color:#fff;text-decoration:none;font-weight:600}header nav{display:flex;gap:1.2rem}header nav a{font-weight:400;opacity:.85}
main{max-width:1100px;margin:1.5rem auto;padding:0 1.5rem}
section{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:1rem 1.25rem;margin-bottom:1.5rem}
h1{font-size:1.4rem;margin:.2rem 0 1rem}h2{font-size:1.1rem;margin:0 0 .8rem}
table{width:100%;border-collapse:collapse}th,td{text-align:left;padding:.45rem .5rem;border-top:1px solid #eaeef2;vertical-align:middle}
th{font-size:.8rem;text-transform:uppercase;letter-spacing:.03em;color:#57606a;border-top:none}
form.inline{display:inline}button{font:inherit;padding:.25rem .7rem;border-radius:6px;border:1px solid #d0d7de;background:#f6f8fa;cursor:pointer}
button.primary{background:#1f883d;border-color:#1a7f37;color:#fff}button.danger{background:#fff;color:#cf222e;border-color:#cf222e}
input,select{font:inherit;padding:.3rem .5rem;border:1px solid #d0d7de;border-radius:6px}
.badge{display:inline-block;padding:0 .5rem;border-radius:1rem;font-size:.8rem;border:1px solid #d0d7de}
.active{background:#dafbe1;border-color:#4ac26b}.inactive,.deleted{background:#eaeef2}.locked{background:#ffebe9;border-color:#ff8182}
.pending{background:#fff8c5;border-color:#d4a72c}.admin{background:#ddf4ff;border-color:#54aeff}
.notice{background:#dafbe1;border:1px solid #4ac26b;padding:.6rem 1rem;border-radius:6px;margin-bottom:1rem}
.error{background:#ffebe9;border:1px solid #ff8182;padding:.6rem 1rem;border-radius:6px;margin-bottom:1rem}
.muted{color:#57606a}.row{display:flex;gap:.5rem;flex-wrap:wrap;align-items:center}dl{display:grid;grid-template-columns:12rem 1fr;gap:.3rem 1rem;margin:0}dt{color:#57606a}dd{margin:0}
`;

function Layout(props: { title: string; notice?: string; error?: string; children: Child }) {
  return (
    <HtmlDocument title={`${props.title} · Gatehouse admin`} css={css}>
      <header>
        <a href="/admin">Gatehouse admin</a>
        <nav>
          <a href="/admin#pending">Pending</a>
          <a href="/admin#users">Users</a>
          <a href="/admin#allowlist">Allowlist</a>
        </nav>
      </header>
      <main>
        {props.notice ? <p class="notice">{props.notice}</p> : null}
        {props.error ? <p class="error">{props.error}</p> : null}
        {props.children}
      </main>
    </HtmlDocument>
  );
}

const when = (d: Date | null) => (d ? d.toISOString().replace("T", " ").slice(0, 16) : "—");

function StatusBadges({ user }: { user: User }) {
  return (
    <span class="row">
      <span class={`badge ${user.status}`}>{user.status}</span>
      {user.is_whitelisted ? null : <span class="badge pending">not approved</span>}
      {user.role === "admin" ? <span class="badge admin">admin</span> : null}
    </span>
  );
}

/** A one-button form posting an action about a user, returning to `back`. */
function ActionButton(props: {
  userId: string;
  action: FormAction;
  label: string;
  back: string;
  kind?: "primary" | "danger";
}) {
  return (
    <form class="inline" method="post" action={`/admin/forms/users/${props.userId}`}>
      <input type="hidden" name="action" value={props.action} />
      <input type="hidden" name="back" value={props.back} />
      <button type="submit" class={props.kind ?? ""}>
        {props.label}
      </button>
    </form>
  );
}

function PendingSection({ pending }: { pending: readonly User[] }) {
  return (
    <section id="pending">
      <h2>Waiting for approval ({pending.length})</h2>
      {pending.length === 0 ? (
        <p class="muted">Nobody is waiting.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>User</th>
              <th>Signed up</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {pending.map((u) => (
              <tr>
                <td>
                  <a href={`/admin/view/users/${u.id}`}>{u.email ?? u.username ?? u.id}</a>{" "}
                  {/* Approving on the strength of an address nobody confirmed is approving a stranger. */}
                  {u.email && !u.email_verified ? (
                    <span class="badge pending">unverified</span>
                  ) : null}
                  {u.full_name ? <span class="muted"> · {u.full_name}</span> : null}
                </td>
                <td>{when(u.created_at)}</td>
                <td class="row">
                  <ActionButton
                    userId={u.id}
                    action="approve"
                    label="Approve"
                    back="/admin"
                    kind="primary"
                  />
                  <ActionButton
                    userId={u.id}
                    action="deny"
                    label="Deny"
                    back="/admin"
                    kind="danger"
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function UsersSection(props: {
  users: readonly User[];
  query: z.infer<typeof userListQuery>;
  nextHref: string | null;
}) {
  const { query } = props;
  return (
    <section id="users">
      <h2>Users</h2>
      <form method="get" action="/admin" class="row">
        <input type="search" name="q" value={query.q ?? ""} placeholder="email, username or name" />
        <select name="status">
          <option value="">any status</option>
          {userStatuses.map((s) => (
            <option value={s} selected={query.status === s}>
              {s}
            </option>
          ))}
        </select>
        <select name="whitelisted">
          <option value="">approved or not</option>
          <option value="true" selected={query.whitelisted === true}>
            approved
          </option>
          <option value="false" selected={query.whitelisted === false}>
            not approved
          </option>
        </select>
        <button type="submit">Search</button>
      </form>
      <table>
        <thead>
          <tr>
            <th>User</th>
            <th>State</th>
            <th>Created</th>
            <th>Last sign-in</th>
          </tr>
        </thead>
        <tbody>
          {props.users.map((u) => (
            <tr>
              <td>
                <a href={`/admin/view/users/${u.id}`}>{u.email ?? u.username ?? "(anonymised)"}</a>
                {u.full_name ? <span class="muted"> · {u.full_name}</span> : null}
              </td>
              <td>
                <StatusBadges user={u} />
              </td>
              <td>{when(u.created_at)}</td>
              <td>{when(u.last_login_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {props.users.length === 0 ? <p class="muted">No user matches.</p> : null}
      {props.nextHref ? (
        <p>
          <a href={props.nextHref}>Next page →</a>
        </p>
      ) : null}
    </section>
  );
}

function AllowlistSection({ rules }: { rules: readonly AllowlistRule[] }) {
  return (
    <section id="allowlist">
      <h2>Allowlist rules</h2>
      <p class="muted">A user matching a rule is approved automatically at sign-in.</p>
      <table>
        <thead>
          <tr>
            <th>Kind</th>
            <th>Value</th>
            <th>Added</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {rules.map((r) => (
            <tr>
              <td>{r.kind}</td>
              <td>
                <code>{r.value}</code>
              </td>
              <td>{when(r.created_at)}</td>
              <td>
                <form class="inline" method="post" action={`/admin/forms/allowlist/${r.id}/delete`}>
                  <button type="submit" class="danger">
                    Delete
                  </button>
                </form>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form method="post" action="/admin/forms/allowlist" class="row" style="margin-top:.8rem">
        <select name="kind">
          <option value="email">email</option>
          <option value="domain">domain</option>
          <option value="github_org">github_org</option>
          <option value="github_team">github_team</option>
        </select>
        <input name="value" required placeholder="alice@example.com, example.com, org, org/team" />
        <button type="submit" class="primary">
          Add rule
        </button>
      </form>
    </section>
  );
}

function UserPage(props: {
  user: User;
  accounts: readonly { provider: string; email: string | null }[];
  sessions: readonly Session[];
  events: readonly AuditEvent[];
}) {
  const { user } = props;
  const back = `/admin/view/users/${user.id}`;
  const live = user.status !== "deleted";
  return (
    <>
      <h1>{user.email ?? user.username ?? "(anonymised user)"}</h1>
      <section>
        <dl>
          <dt>State</dt>
          <dd>
            <StatusBadges user={user} />
          </dd>
          <dt>Id</dt>
          <dd>
            <code>{user.id}</code>
          </dd>
          <dt>Name</dt>
          <dd>{user.full_name ?? "—"}</dd>
          <dt>Username</dt>
          <dd>{user.username ?? "—"}</dd>
          <dt>Email verified</dt>
          <dd>{user.email_verified ? "yes" : "no"}</dd>
          <dt>Sign-in methods</dt>
          <dd>
            {[user.password_hash ? "password" : null, ...props.accounts.map((a) => a.provider)]
              .filter(Boolean)
              .join(", ") || "—"}
          </dd>
          <dt>Created · last sign-in</dt>
          <dd>
            {when(user.created_at)} · {when(user.last_login_at)}
          </dd>
        </dl>
        {live ? (
          <p class="row" style="margin-top:1rem">
            {user.is_whitelisted ? (
              <ActionButton
                userId={user.id}
                action="unwhitelist"
                label="Revoke approval"
                back={back}
              />
            ) : (
              <ActionButton
                userId={user.id}
                action="approve"
                label="Approve"
                back={back}
                kind="primary"
              />
            )}
            {user.status === "active" ? (
              <>
                <ActionButton userId={user.id} action="deactivate" label="Deactivate" back={back} />
                <ActionButton userId={user.id} action="lock" label="Lock" back={back} />
              </>
            ) : (
              <ActionButton
                userId={user.id}
                action="activate"
                label="Activate / unlock"
                back={back}
              />
            )}
            {user.role === "admin" ? (
              <ActionButton
                userId={user.id}
                action="remove_admin"
                label="Remove admin"
                back={back}
              />
            ) : (
              <ActionButton userId={user.id} action="make_admin" label="Make admin" back={back} />
            )}
            <ActionButton
              userId={user.id}
              action="revoke_sessions"
              label="Sign out everywhere"
              back={back}
            />
            <ActionButton
              userId={user.id}
              action="delete"
              label="Delete account"
              back="/admin"
              kind="danger"
            />
          </p>
        ) : null}
      </section>
      <section>
        <h2>Sessions</h2>
        {props.sessions.length === 0 ? (
          <p class="muted">No sessions.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Created</th>
                <th>Last seen</th>
                <th>Address</th>
                <th>Agent</th>
                <th>State</th>
              </tr>
            </thead>
            <tbody>
              {props.sessions.map((s) => (
                <tr>
                  <td>{when(s.created_at)}</td>
                  <td>{when(s.last_seen_at)}</td>
                  <td>{s.ip ?? "—"}</td>
                  <td class="muted">{s.user_agent ?? "—"}</td>
                  <td>
                    {s.revoked_at
                      ? `revoked (${s.revoked_reason ?? ""})`
                      : s.expires_at < new Date()
                        ? "expired"
                        : "live"}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section>
        <h2>Audit trail</h2>
        {props.events.length === 0 ? (
          <p class="muted">No events.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th>When</th>
                <th>Event</th>
                <th>Result</th>
                <th>By</th>
                <th>Address</th>
              </tr>
            </thead>
            <tbody>
              {props.events.map((e) => (
                <tr>
                  <td>{when(e.occurred_at)}</td>
                  <td>
                    <code>{e.event_type}</code>
                    {e.failure_reason ? <span class="muted"> · {e.failure_reason}</span> : null}
                  </td>
                  <td>{e.result}</td>
                  <td>
                    {e.actor_id && e.actor_id !== e.user_id ? (
                      <a href={`/admin/view/users/${e.actor_id}`}>admin</a>
                    ) : (
                      "self"
                    )}
                  </td>
                  <td>{e.ip ?? "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}

function ErrorPage({ status, message }: { status: number; message: string }) {
  return (
    <Layout title={String(status)}>
      <section>
        <h1>{status === 403 ? "Administrators only" : "Not found"}</h1>
        <p>{message}</p>
      </section>
    </Layout>
  );
}

const formActions = {
  approve: { isWhitelisted: true },
  deny: { status: "inactive" },
  activate: { status: "active" },
  deactivate: { status: "inactive" },
  lock: { status: "locked" },
  unlock: { status: "active" },
  whitelist: { isWhitelisted: true },
  unwhitelist: { isWhitelisted: false },
  make_admin: { role: "admin" },
  remove_admin: { role: "user" },
  revoke_sessions: null,
  delete: null,
} satisfies Record<string, AdministrativeChange | null>;
type FormAction = keyof typeof formActions;

const userActionForm = z.object({
  action: z.enum(Object.keys(formActions) as [FormAction, ...FormAction[]]),
  // Only our own pages: a crafted `back` must not turn this into an open redirect.
  back: z
    .string()
    .regex(/^\/admin(\/[A-Za-z0-9/_-]*)?$/)
    .default("/admin"),
});

/**
 * Pages answer people, not programs: anonymous visitors are sent to sign in,
 * signed-in non-admins get a readable 403.
 */
function requireAdminPage(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const principal = c.get("principal");
    if (!principal) {
      if (c.req.method === "GET")
        return c.redirect(`/?redirect_to=${encodeURIComponent(c.req.path)}`, 302);
      throw new DomainError("not_signed_in");
    }
    const refusal =
      gateRefusal(principal) ??
      (principal.user.role !== "admin" ? errorMessage("admin_only") : null);
    if (refusal) return c.html(<ErrorPage status={403} message={refusal} />, 403);
    await next();
  };
}

function flashOf(c: Context<AppEnv>) {
  return flashMessages({ notice: c.req.query("notice"), error: c.req.query("error") });
}

export function adminPageRoutes(deps: { pool: DatabasePool; logger: Logger }) {
  const { pool } = deps;
  const app = new Hono<AppEnv>();

  app.get("/admin", requireAdminPage(), async (c) => {
    const parsed = userListQuery.safeParse(
      Object.fromEntries(Object.entries(c.req.query()).filter(([, v]) => v !== "")),
    );
    const query = parsed.success ? parsed.data : userListQuery.parse({});
    const cursor = query.cursor ? decodeCursor(query.cursor) : undefined;
    const [pending, page, rules] = await Promise.all([
      listPendingUsers(pool, 100),
      pageOfUsers(
        pool,
        {
          query: query.q || undefined,
          status: query.status,
          whitelisted: query.whitelisted,
          before: cursor ? { createdAt: cursor.time, id: cursor.id } : undefined,
        },
        Math.min(query.limit, 50),
      ),
      listAllowlistRules(pool),
    ]);
    let nextHref: string | null = null;
    if (page.next) {
      const params = new URLSearchParams();
      if (query.q) params.set("q", query.q);
      if (query.status) params.set("status", query.status);
      if (query.whitelisted !== undefined) params.set("whitelisted", String(query.whitelisted));
      params.set("cursor", encodeCursor(page.next.createdAt, page.next.id));
      nextHref = `/admin?${params}#users`;
    }
    return c.html(
      <Layout title="Users" {...flashOf(c)}>
        <PendingSection pending={pending} />
        <UsersSection users={page.users} query={query} nextHref={nextHref} />
        <AllowlistSection rules={rules} />
      </Layout>,
    );
  });

  app.get("/admin/view/users/:id", requireAdminPage(), async (c) => {
    const id = targetUserId(c);
    const user = await findUserById(pool, id);
    if (!user) {
      return c.html(<ErrorPage status={404} message={errorMessage("user_not_found")} />, 404);
    }
    const [accounts, sessions, events] = await Promise.all([
      listLinkedAccountsOfUser(pool, id),
      listSessionsOfUser(pool, id, 50),
      listAuditEvents(pool, { userId: id, limit: 100 }),
    ]);
    return c.html(
      <Layout title={user.email ?? "User"} {...flashOf(c)}>
        <UserPage user={user} accounts={accounts} sessions={sessions} events={events} />
      </Layout>,
    );
  });

  app.post("/admin/forms/users/:id", requireAdminPage(), async (c) => {
    const id = targetUserId(c);
    const form = await readBody(c, userActionForm);
    const actor = actorOf(c);
    try {
      const change = formActions[form.action];
      if (change) await changeUser(deps, actor, id, change);
      else if (form.action === "revoke_sessions") await revokeUserAccess(deps, actor, id);
      else
        await deleteAccount(deps, {
          userId: id,
          actorId: actor.actorId,
          ip: actor.ip,
          userAgent: actor.userAgent,
          hard: false,
        });
    } catch (error) {
      if (error instanceof DomainError)
        return c.redirect(withFlash(form.back, { error: error.code }), 303);
      throw error;
    }
    return c.redirect(withFlash(form.back, { notice: form.action }), 303);
  });

  app.post("/admin/forms/allowlist", requireAdminPage(), async (c) => {
    let rule: z.infer<typeof allowlistRuleBody>;
    try {
      rule = await readBody(c, allowlistRuleBody);
    } catch (error) {
      if (hasCode(error, "validation_failed", "malformed_form", "malformed_json")) {
        return c.redirect(`${withFlash("/admin", { error: "rule_invalid" })}#allowlist`, 303);
      }
      throw error;
    }
    try {
      await addAllowlistRule(deps, actorOf(c), rule);
    } catch (error) {
      if (error instanceof DomainError)
        return c.redirect(withFlash("/admin", { error: error.code }), 303);
      throw error;
    }
    return c.redirect(withFlash("/admin", { notice: "rule_added" }), 303);
  });

  app.post("/admin/forms/allowlist/:id/delete", requireAdminPage(), async (c) => {
    const id = z.uuid().safeParse(c.req.param("id"));
    try {
      if (!id.success) throw new DomainError("rule_not_found");
      await deleteAllowlistRuleAudited(deps, actorOf(c), id.data);
    } catch (error) {
      if (error instanceof DomainError)
        return c.redirect(withFlash("/admin", { error: error.code }), 303);
      throw error;
    }
    return c.redirect(withFlash("/admin", { notice: "rule_deleted" }), 303);
  });

  return app;
}
