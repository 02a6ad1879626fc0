import { Hono } from "hono";
import { z } from "zod";
import { DomainError } from "../../errors.ts";
import { type ExplainDeps, explainAccess } from "../../gate/access-explanation.ts";
import { actorOf, targetUserId, userListFilter, userListQuery } from "../../http/admin-request.ts";
import type { AppEnv } from "../../http/app-env.ts";
import { encodeCursor } from "../../http/cursor.ts";
import { errorMessage } from "../../http/error-map.ts";
import { readBody } from "../../http/json-body.ts";
import { assertRecentAuthOf } from "../../http/recent-auth.ts";
import { type MfaResetDeps, resetSecondFactors } from "../../mfa/admin-reset.ts";
import { revokeOneSessionOfUser, revokeUserAccess } from "../../users/administration.ts";
import { type DecisionDeps, decideOnUser } from "../../users/approval.ts";
import { deleteAccount } from "../../users/deletion.ts";
import { pageOfUsers, pendingUsers, secondFactorsView } from "../../users/user-list.ts";
import { userRecord } from "../../users/user-record.ts";
import { Layout, userLabel } from "../admin/layout.tsx";
import { PendingQueue } from "../admin/pending.tsx";
import { UserPage } from "../admin/user.tsx";
import {
  confirmedActions,
  formActions,
  isConfirmedAction,
  userActionForm,
} from "../admin/user-actions.ts";
import { UsersList, userFilterParams } from "../admin/users.tsx";
import {
  changeThenBack,
  confirmScreen,
  filledQuery,
  filterOrProblem,
  flashOf,
  frameOf,
  notFoundScreen,
  requireAdminPage,
} from "./answers.tsx";

// The console's user screens: the approval queue (GET /admin), the user
// list, one user with their access explained, the confirmation step of a
// destructive action, and the forms that change a user.

export function adminUserScreens(deps: MfaResetDeps & DecisionDeps & ExplainDeps) {
  const { pool } = deps;
  const app = new Hono<AppEnv>();

  app.get("/admin", requireAdminPage(), async (c) => {
    const [pending, frame] = await Promise.all([
      pendingUsers(pool, 100),
      frameOf(c, pool, "pending"),
    ]);
    return c.html(
      <Layout title="Approval queue" frame={frame} {...flashOf(c)}>
        <PendingQueue pending={pending} count={frame.pendingCount} />
      </Layout>,
    );
  });

  app.get("/admin/view/users", requireAdminPage(), async (c) => {
    const frame = await frameOf(c, pool, "users");
    const parsed = userListQuery.safeParse(filledQuery(c));
    const { filter, problem } = filterOrProblem(parsed, userListFilter);
    const query = parsed.success ? parsed.data : userListQuery.parse({});
    const users = filter ? await pageOfUsers(pool, filter, Math.min(query.limit, 50)) : null;
    const params = userFilterParams(query);
    const base = `/admin/view/users${params.size ? `?${params}` : ""}`;
    let nextHref: string | null = null;
    if (users?.next) {
      params.set("cursor", encodeCursor(users.next.createdAt, users.next.id));
      nextHref = `/admin/view/users?${params}`;
    }
    return c.html(
      <Layout title="Users" frame={frame} {...flashOf(c)} {...(problem ? { error: problem } : {})}>
        <UsersList
          users={(users?.page ?? []).map((u) => ({ ...u, second_factors: secondFactorsView(u) }))}
          query={query}
          nextHref={nextHref}
          firstHref={query.cursor ? base : null}
        />
      </Layout>,
      problem ? 400 : 200,
    );
  });

  app.get("/admin/view/users/:id", requireAdminPage(), async (c) => {
    const id = targetUserId(c);
    const [record, frame] = await Promise.all([userRecord(pool, id), frameOf(c, pool, "users")]);
    if (!record) return notFoundScreen(c, pool, errorMessage("user_not_found"));
    const access = await explainAccess(deps, id);
    return c.html(
      <Layout title={userLabel(record.user)} frame={frame} {...flashOf(c)}>
        <UserPage {...record} access={access} />
      </Layout>,
    );
  });

  app.get("/admin/view/users/:id/confirm/:action", requireAdminPage(), async (c) => {
    const action = c.req.param("action");
    const record = await userRecord(pool, targetUserId(c));
    if (!record || record.user.status === "deleted" || !isConfirmedAction(action)) {
      return notFoundScreen(c, pool, errorMessage("user_not_found"));
    }
    const step = confirmedActions[action];
    const userPage = `/admin/view/users/${record.user.id}`;
    return confirmScreen(
      c,
      pool,
      "users",
      {
        subject: userLabel(record.user),
        question: step.question,
        consequence: step.consequence,
        button: step.button,
        action: `/admin/forms/users/${record.user.id}`,
        fields: { action, back: action === "delete" ? "/admin/view/users" : userPage },
        cancelHref: userPage,
      },
      flashOf(c),
    );
  });

  app.post("/admin/forms/users/:id", requireAdminPage(), async (c) => {
    const id = targetUserId(c);
    const form = await readBody(c, userActionForm);
    // A destructive action without its second step does nothing but ask for it.
    if (isConfirmedAction(form.action) && form.confirmed !== "yes") {
      return c.redirect(`/admin/view/users/${id}/confirm/${form.action}`, 303);
    }
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

  app.post("/admin/forms/users/:id/sessions/:session/revoke", requireAdminPage(), async (c) => {
    const id = targetUserId(c);
    await readBody(c, z.object({}));
    const session = z.uuid().safeParse(c.req.param("session"));
    return changeThenBack(c, `/admin/view/users/${id}`, "session_revoked", async () => {
      await assertRecentAuthOf(c);
      if (!session.success) throw new DomainError("session_not_found");
      await revokeOneSessionOfUser(deps, actorOf(c), id, session.data);
    });
  });

  return app;
}
