import { type Context, Hono, type MiddlewareHandler } from "hono";
import { z } from "zod";
import { DomainError, hasCode } from "../errors.ts";
import {
  addAllowlistRule,
  allowlistRuleBody,
  allowlistRules,
  deleteAllowlistRuleAudited,
} from "../gate/allowlist.ts";
import { actorOf, targetUserId, userListFilter, userListQuery } from "../http/admin-request.ts";
import type { AppEnv, Principal } from "../http/app-env.ts";
import { requestAuditFields } from "../http/audit-fields.ts";
import { encodeCursor } from "../http/cursor.ts";
import { errorMessage } from "../http/error-map.ts";
import { gateRefusal } from "../http/gate.ts";
import { readBody } from "../http/json-body.ts";
import { assertRecentAuthOf } from "../http/recent-auth.ts";
import { type MfaResetDeps, resetSecondFactors } from "../mfa/admin-reset.ts";
import type { SignInDeps } from "../sign-in/complete.ts";
import { reauthenticate } from "../sign-in/reauth.ts";
import { revokeUserAccess } from "../users/administration.ts";
import { type DecisionDeps, decideOnUser } from "../users/approval.ts";
import { deleteAccount } from "../users/deletion.ts";
import {
  countWaitingUsers,
  pageOfUsers,
  pendingUsers,
  secondFactorsView,
} from "../users/user-list.ts";
import { userRecord } from "../users/user-record.ts";
import { flashMessages, type NoticeCode, withFlash } from "./admin/flash.ts";
import { AllowlistSection, PendingSection, UsersSection } from "./admin/home.tsx";
import { ErrorPage, Layout } from "./admin/layout.tsx";
import { UserPage } from "./admin/user.tsx";
import { formActions, userActionForm } from "./admin/user-actions.ts";

// The operator's page: server-rendered HTML with plain forms, so it works
// without JavaScript. Forms post to /admin/forms/*, which call the same domain
// functions as the JSON API and redirect back (POST-redirect-GET). The session
// cookie and the CSRF middleware protect them exactly as they protect the API.

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
  const error = c.req.query("error");
  return {
    ...flashMessages({ notice: c.req.query("notice"), error }),
    ...(error === "reauth_required" ? { reauthBack: c.req.path } : {}),
  };
}

const reauthForm = z.object({
  back: userActionForm.shape.back,
  code: z.string().max(32).optional(),
  password: z.string().max(1024).optional(),
});

/** Runs a form's change and goes back to `back`, saying it was done or why it was refused. */
async function changeThenBack(
  c: Context<AppEnv>,
  back: string,
  notice: NoticeCode,
  change: () => Promise<unknown>,
): Promise<Response> {
  try {
    await change();
  } catch (error) {
    if (error instanceof DomainError)
      return c.redirect(withFlash(back, { error: error.code }), 303);
    throw error;
  }
  return c.redirect(withFlash(back, { notice }), 303);
}

export function adminPageRoutes(deps: MfaResetDeps & SignInDeps & DecisionDeps) {
  const { pool } = deps;
  const app = new Hono<AppEnv>();

  app.get("/admin", requireAdminPage(), async (c) => {
    const parsed = userListQuery.safeParse(
      Object.fromEntries(Object.entries(c.req.query()).filter(([, v]) => v !== "")),
    );
    const query = parsed.success ? parsed.data : userListQuery.parse({});
    const [pending, pendingCount, users, rules] = await Promise.all([
      pendingUsers(pool, 100),
      countWaitingUsers(pool),
      pageOfUsers(pool, userListFilter(query), Math.min(query.limit, 50)),
      allowlistRules(pool),
    ]);
    let nextHref: string | null = null;
    if (users.next) {
      const params = new URLSearchParams();
      if (query.q) params.set("q", query.q);
      if (query.status) params.set("status", query.status);
      if (query.whitelisted !== undefined) params.set("whitelisted", String(query.whitelisted));
      if (query.mfa) params.set("mfa", query.mfa);
      params.set("cursor", encodeCursor(users.next.createdAt, users.next.id));
      nextHref = `/admin?${params}#users`;
    }
    return c.html(
      <Layout title="Users" {...flashOf(c)}>
        <PendingSection pending={pending} count={pendingCount} />
        <UsersSection
          users={users.page.map((u) => ({ ...u, second_factors: secondFactorsView(u) }))}
          query={query}
          nextHref={nextHref}
        />
        <AllowlistSection rules={rules} />
      </Layout>,
    );
  });

  app.get("/admin/view/users/:id", requireAdminPage(), async (c) => {
    const record = await userRecord(pool, targetUserId(c));
    if (!record) {
      return c.html(<ErrorPage status={404} message={errorMessage("user_not_found")} />, 404);
    }
    return c.html(
      <Layout title={record.user.email ?? "User"} {...flashOf(c)}>
        <UserPage {...record} />
      </Layout>,
    );
  });

  app.post("/admin/forms/users/:id", requireAdminPage(), async (c) => {
    const id = targetUserId(c);
    const form = await readBody(c, userActionForm);
    const actor = actorOf(c);
    return changeThenBack(c, form.back, form.action, async () => {
      await assertRecentAuthOf(c);
      const change = formActions[form.action];
      if (change) {
        const reason = form.action === "deny" ? form.reason : undefined;
        await decideOnUser(deps, actor, id, { ...change, ...(reason ? { reason } : {}) });
      } else if (form.action === "revoke_sessions") await revokeUserAccess(deps, actor, id);
      else if (form.action === "reset_mfa") await resetSecondFactors(deps, actor, id);
      else await deleteAccount(deps, { userId: id, ...actor, hard: false });
    });
  });

  // The step-up, for a form refused with reauth_required: not itself behind
  // the recent-auth check, and its wrong answers count toward the lockout.
  app.post("/admin/forms/reauth", requireAdminPage(), async (c) => {
    const form = await readBody(c, reauthForm);
    const principal = c.get("principal") as Principal;
    const code = form.code?.trim();
    return changeThenBack(c, form.back, "reauthenticated", () =>
      reauthenticate(
        deps,
        { userId: principal.user.user_id, sessionId: principal.sessionId },
        code ? { kind: "totp", code } : { kind: "password", password: form.password ?? "" },
        requestAuditFields(c),
      ),
    );
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
    return changeThenBack(c, "/admin", "rule_added", async () => {
      await assertRecentAuthOf(c);
      await addAllowlistRule(deps, actorOf(c), rule);
    });
  });

  app.post("/admin/forms/allowlist/:id/delete", requireAdminPage(), async (c) => {
    const id = z.uuid().safeParse(c.req.param("id"));
    return changeThenBack(c, "/admin", "rule_deleted", async () => {
      await assertRecentAuthOf(c);
      if (!id.success) throw new DomainError("rule_not_found");
      await deleteAllowlistRuleAudited(deps, actorOf(c), id.data);
    });
  });

  return app;
}
