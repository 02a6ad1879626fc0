import { type Context, Hono, type MiddlewareHandler } from "hono";
import { z } from "zod";
import { pageOfAuditEvents } from "../audit-trail.ts";
import { DomainError, hasCode } from "../errors.ts";
import { dryRunRule, type ExplainDeps, explainAccess } from "../gate/access-explanation.ts";
import {
  addAllowlistRule,
  allowlistRuleBody,
  allowlistRuleImpact,
  allowlistRules,
  deleteAllowlistRuleAudited,
  waitingUsersByRule,
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
import { usersOfClient } from "../oidc/apps-with-access.ts";
import {
  addClient,
  clientBody,
  findClient,
  listClients,
  removeClient,
  rotateClientSecret,
  toClientView,
} from "../oidc/clients.ts";
import type { IdTokens } from "../oidc/id-tokens.ts";
import { auditFilterOf, auditQuery } from "../routes/admin-audit.ts";
import type { SignInDeps } from "../sign-in/complete.ts";
import { reauthenticate } from "../sign-in/reauth.ts";
import { revokeOneSessionOfUser, revokeUserAccess } from "../users/administration.ts";
import { type DecisionDeps, decideOnUser } from "../users/approval.ts";
import { deleteAccount } from "../users/deletion.ts";
import {
  countWaitingUsers,
  labelsOfUsers,
  pageOfUsers,
  pendingUsers,
  secondFactorsView,
  userIdOfEmail,
} from "../users/user-list.ts";
import { userRecord } from "../users/user-record.ts";
import {
  addWebhookEndpoint,
  deliveriesOfEndpoint,
  type EndpointDeps,
  removeWebhookEndpointAudited,
  sendTestEvent,
  webhookEndpointBody,
  webhookEndpoints,
} from "../webhooks/endpoints.ts";
import type { DryRunFields, DryRunOutcome } from "./admin/access.tsx";
import { AllowlistRules } from "./admin/allowlist.tsx";
import { type AuditFilterFields, AuditLog, auditFilterNames } from "./admin/audit.tsx";
import { ClientSecretShown, ClientsList } from "./admin/clients.tsx";
import { ConfirmStep } from "./admin/confirm.tsx";
import { flashMessages, type NoticeCode, withFlash } from "./admin/flash.ts";
import {
  type AdminFrame,
  type AdminScreen,
  Layout,
  RefusalPage,
  userLabel,
} from "./admin/layout.tsx";
import { PendingQueue } from "./admin/pending.tsx";
import { UserPage } from "./admin/user.tsx";
import {
  confirmedActions,
  formActions,
  isConfirmedAction,
  userActionForm,
} from "./admin/user-actions.ts";
import { UsersList, userFilterParams } from "./admin/users.tsx";
import { WebhookAdded, WebhookEndpoints } from "./admin/webhooks.tsx";

// The admin console: server-rendered HTML with plain forms, so it works
// without JavaScript. Screens are GET /admin (the approval queue) and
// /admin/view/* (users, one user, the audit log, the allowlist, webhooks,
// OpenID Connect clients, and the
// confirmation step of destructive actions); forms post to /admin/forms/*,
// which call the same domain functions as the JSON API and redirect back
// (POST-redirect-GET). The session cookie and the CSRF middleware protect
// them exactly as they protect the API, and writes need a recent sign-in.

/**
 * Pages answer people, not programs: anonymous visitors are sent to sign in,
 * signed-in non-admins get a readable 403 without the admin navigation.
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
    if (refusal) return c.html(<RefusalPage status={403} message={refusal} />, 403);
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

const confirmation = z.object({ confirmed: z.literal("yes").optional() });
/** The dry run's fields as typed; the rule is checked as a rule once read. */
const dryRunForm = z.object({
  kind: z.string().max(32).default(""),
  value: z.string().max(320).default(""),
  user: z.string().max(320).default(""),
});
/** A rule deletion also carries the count its confirmation showed. */
const ruleDeletionForm = confirmation.extend({
  expected_unapproved: z.coerce.number().int().min(0).optional(),
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

/** The query string without its empty fields: an untouched filter means no filter. */
const filledQuery = (c: Context) =>
  Object.fromEntries(Object.entries(c.req.query()).filter(([, v]) => v !== ""));

/** A filter's refusal in words, for the page that shows it (400). */
function invalidFilters(error: z.ZodError | DomainError): string {
  if (error instanceof DomainError) return error.details.detail ?? errorMessage(error.code);
  return `Some filters are invalid: ${error.issues
    .map((i) => `${i.path.join(".") || "query"}: ${i.message}`)
    .join("; ")}.`;
}

/** The id no user has: the filter for an address that names nobody. */
const nobody = "00000000-0000-0000-0000-000000000000";

/** A `datetime-local` field's value (no zone; the page says UTC) as an ISO instant. */
const asUtcInstant = (value: string | undefined) =>
  value && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value)
    ? `${value.length === 16 ? `${value}:00` : value}Z`
    : value;

export function adminPageRoutes(
  deps: MfaResetDeps &
    SignInDeps &
    DecisionDeps &
    EndpointDeps &
    ExplainDeps & { idTokens: Pick<IdTokens, "algs"> },
) {
  const { pool } = deps;
  const app = new Hono<AppEnv>();

  /** The header's facts: who is signed in, how many wait. */
  async function frameOf(c: Context<AppEnv>, screen?: AdminScreen): Promise<AdminFrame> {
    const { user } = c.get("principal") as Principal;
    return {
      adminName: user.full_name ?? user.email ?? "administrator",
      pendingCount: await countWaitingUsers(pool),
      ...(screen ? { screen } : {}),
    };
  }

  async function notFound(c: Context<AppEnv>, message: string) {
    return c.html(
      <Layout title="Not found" frame={await frameOf(c)}>
        <section>
          <p>{message}</p>
        </section>
      </Layout>,
      404,
    );
  }

  app.get("/admin", requireAdminPage(), async (c) => {
    const [pending, frame] = await Promise.all([pendingUsers(pool, 100), frameOf(c, "pending")]);
    return c.html(
      <Layout title="Approval queue" frame={frame} {...flashOf(c)}>
        <PendingQueue pending={pending} count={frame.pendingCount} />
      </Layout>,
    );
  });

  app.get("/admin/view/users", requireAdminPage(), async (c) => {
    const frame = await frameOf(c, "users");
    const parsed = userListQuery.safeParse(filledQuery(c));
    let filter: ReturnType<typeof userListFilter> | null = null;
    let problem: string | null = parsed.success ? null : invalidFilters(parsed.error);
    if (parsed.success) {
      try {
        filter = userListFilter(parsed.data);
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        problem = invalidFilters(error);
      }
    }
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
    const [record, frame] = await Promise.all([userRecord(pool, id), frameOf(c, "users")]);
    if (!record) return notFound(c, errorMessage("user_not_found"));
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
      return notFound(c, errorMessage("user_not_found"));
    }
    const step = confirmedActions[action];
    const userPage = `/admin/view/users/${record.user.id}`;
    return c.html(
      <Layout title="Are you sure?" frame={await frameOf(c, "users")} {...flashOf(c)}>
        <ConfirmStep
          subject={userLabel(record.user)}
          question={step.question}
          consequence={step.consequence}
          button={step.button}
          action={`/admin/forms/users/${record.user.id}`}
          fields={{ action, back: action === "delete" ? "/admin/view/users" : userPage }}
          cancelHref={userPage}
        />
      </Layout>,
    );
  });

  app.get("/admin/view/audit", requireAdminPage(), async (c) => {
    const frame = await frameOf(c, "audit");
    const typed = filledQuery(c);
    const fields: AuditFilterFields = Object.fromEntries(
      auditFilterNames.filter((name) => typed[name] !== undefined).map((n) => [n, typed[n]]),
    );
    // A person is named by address or id; an address nobody has matches nothing.
    const idOf = async (value: string | undefined) =>
      value?.includes("@") ? ((await userIdOfEmail(pool, value)) ?? nobody) : value;
    const parsed = auditQuery.safeParse({
      ...typed,
      user_id: await idOf(typed.user_id),
      actor_id: await idOf(typed.actor_id),
      since: asUtcInstant(typed.since),
      until: asUtcInstant(typed.until),
      limit: "50",
    });
    let problem: string | null = parsed.success ? null : invalidFilters(parsed.error);
    let filter: ReturnType<typeof auditFilterOf> | null = null;
    if (parsed.success) {
      try {
        filter = auditFilterOf(parsed.data);
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        problem = invalidFilters(error);
      }
    }
    const events = filter ? await pageOfAuditEvents(pool, filter, 50) : { page: [], next: null };
    const labels = await labelsOfUsers(
      pool,
      events.page.flatMap((e) => [e.user_id, e.actor_id]),
    );
    const params = new URLSearchParams(fields as Record<string, string>);
    const base = `/admin/view/audit${params.size ? `?${params}` : ""}`;
    let nextHref: string | null = null;
    if (events.next) {
      params.set("cursor", encodeCursor(events.next.occurredAt, events.next.id));
      nextHref = `/admin/view/audit?${params}`;
    }
    return c.html(
      <Layout title="Audit log" frame={frame} {...(problem ? { error: problem } : {})}>
        <AuditLog
          fields={fields}
          events={events.page}
          labels={labels}
          nextHref={nextHref}
          firstHref={typed.cursor ? base : null}
        />
      </Layout>,
      problem ? 400 : 200,
    );
  });

  async function allowlistScreen(
    c: Context<AppEnv>,
    dryRun?: { fields: DryRunFields; outcome: DryRunOutcome },
    status: 200 | 400 | 404 = 200,
  ) {
    const [rules, waiting, frame] = await Promise.all([
      allowlistRules(pool),
      waitingUsersByRule(pool),
      frameOf(c, "allowlist"),
    ]);
    return c.html(
      <Layout title="Allowlist" frame={frame} {...flashOf(c)}>
        <AllowlistRules rules={rules} waiting={waiting} {...(dryRun ? { dryRun } : {})} />
      </Layout>,
      status,
    );
  }

  app.get("/admin/view/allowlist", requireAdminPage(), (c) => allowlistScreen(c));

  // The dry run answers on the page it was asked from: it changes nothing,
  // so no redirect and no recent sign-in (like POST /admin/allowlist/dry-run).
  app.post("/admin/forms/allowlist/dry-run", requireAdminPage(), async (c) => {
    const form = await readBody(c, dryRunForm);
    const fields = { kind: form.kind, value: form.value, user: form.user };
    const refused = (status: 400 | 404, message: string) =>
      allowlistScreen(c, { fields, outcome: { kind: "refused", message } }, status);
    const rule = allowlistRuleBody.safeParse({ kind: form.kind, value: form.value });
    if (!rule.success) return refused(400, errorMessage("rule_invalid"));
    const named = form.user.trim();
    const userId = named.includes("@")
      ? await userIdOfEmail(pool, named)
      : z.uuid().safeParse(named).data;
    if (!userId) return refused(404, errorMessage("user_not_found"));
    try {
      const answer = await dryRunRule(deps, rule.data, userId);
      const outcome: DryRunOutcome = {
        kind: "answer",
        wouldAdmit: answer.would_admit,
        reason: answer.reason,
        userId,
        user: named,
      };
      return allowlistScreen(c, { fields, outcome });
    } catch (error) {
      if (hasCode(error, "user_not_found")) return refused(404, errorMessage("user_not_found"));
      throw error;
    }
  });

  app.get("/admin/view/allowlist/:id/delete", requireAdminPage(), async (c) => {
    const id = z.uuid().safeParse(c.req.param("id"));
    const impact = id.success
      ? await allowlistRuleImpact(deps, id.data).catch((error: unknown) => {
          if (hasCode(error, "rule_not_found")) return null;
          throw error;
        })
      : null;
    if (!impact) return notFound(c, errorMessage("rule_not_found"));
    const { rule, unapproved, kept } = impact;
    return c.html(
      <Layout title="Are you sure?" frame={await frameOf(c, "allowlist")} {...flashOf(c)}>
        <ConfirmStep
          subject={`${rule.kind} ${rule.value}`}
          question="Delete the allowlist rule"
          consequence={`Nobody new is approved by it from now on. ${unapproved} ${unapproved === 1 ? "user" : "users"} only it lets in will lose access (pending again, signed out); ${kept} it let in keep access through another rule or ADMIN_EMAILS. Users approved by hand are not touched.`}
          button="Delete rule"
          action={`/admin/forms/allowlist/${rule.id}/delete`}
          // What the administrator saw: refused if the deletion would now do otherwise.
          fields={{ expected_unapproved: String(unapproved) }}
          cancelHref="/admin/view/allowlist"
        />
      </Layout>,
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
        return c.redirect(withFlash("/admin/view/allowlist", { error: "rule_invalid" }), 303);
      }
      throw error;
    }
    return changeThenBack(c, "/admin/view/allowlist", "rule_added", async () => {
      await assertRecentAuthOf(c);
      await addAllowlistRule(deps, actorOf(c), rule);
    });
  });

  app.post("/admin/forms/allowlist/:id/delete", requireAdminPage(), async (c) => {
    const id = z.uuid().safeParse(c.req.param("id"));
    const form = await readBody(c, ruleDeletionForm);
    if (id.success && form.confirmed !== "yes") {
      return c.redirect(`/admin/view/allowlist/${id.data}/delete`, 303);
    }
    return changeThenBack(c, "/admin/view/allowlist", "rule_deleted", async () => {
      await assertRecentAuthOf(c);
      if (!id.success) throw new DomainError("rule_not_found");
      await deleteAllowlistRuleAudited(deps, actorOf(c), id.data, {
        ...(form.expected_unapproved !== undefined
          ? { expectedUnapproved: form.expected_unapproved }
          : {}),
      });
    });
  });

  app.get("/admin/view/webhooks", requireAdminPage(), async (c) => {
    const endpoints = await webhookEndpoints(pool);
    const deliveries = new Map(
      await Promise.all(
        endpoints.map(
          async (e) => [e.id, await deliveriesOfEndpoint(pool, e.id, latestDeliveries)] as const,
        ),
      ),
    );
    return c.html(
      <Layout title="Webhooks" frame={await frameOf(c, "webhooks")} {...flashOf(c)}>
        <WebhookEndpoints endpoints={endpoints} deliveries={deliveries} />
      </Layout>,
    );
  });

  app.post("/admin/forms/webhooks", requireAdminPage(), async (c) => {
    const form = await c.req.formData().catch(() => null);
    const input = webhookEndpointBody.safeParse({
      url: form?.get("url"),
      events: form?.getAll("events"),
    });
    if (!input.success) {
      return c.redirect(withFlash("/admin/view/webhooks", { error: "validation_failed" }), 303);
    }
    try {
      await assertRecentAuthOf(c);
      const added = await addWebhookEndpoint(deps, actorOf(c), input.data);
      c.header("cache-control", "no-store");
      return c.html(
        <Layout title="Endpoint added" frame={await frameOf(c, "webhooks")}>
          <WebhookAdded {...added} />
        </Layout>,
      );
    } catch (error) {
      if (error instanceof DomainError) {
        return c.redirect(withFlash("/admin/view/webhooks", { error: error.code }), 303);
      }
      throw error;
    }
  });

  app.post("/admin/forms/webhooks/:id/test", requireAdminPage(), async (c) => {
    await readBody(c, z.object({}));
    const id = z.uuid().safeParse(c.req.param("id"));
    return changeThenBack(c, "/admin/view/webhooks", "webhook_test_sent", async () => {
      await assertRecentAuthOf(c);
      if (!id.success) throw new DomainError("webhook_not_found");
      await sendTestEvent(deps, actorOf(c), id.data);
    });
  });

  app.get("/admin/view/webhooks/:id/remove", requireAdminPage(), async (c) => {
    const id = z.uuid().safeParse(c.req.param("id"));
    const endpoint = id.success
      ? (await webhookEndpoints(pool)).find((e) => e.id === id.data)
      : undefined;
    if (!endpoint) return notFound(c, errorMessage("webhook_not_found"));
    return c.html(
      <Layout title="Are you sure?" frame={await frameOf(c, "webhooks")}>
        <ConfirmStep
          subject={endpoint.url}
          question="Remove the webhook endpoint"
          consequence="It is sent nothing more, and its delivery log is deleted with it; deliveries still waiting are dropped."
          button="Remove endpoint"
          action={`/admin/forms/webhooks/${endpoint.id}/remove`}
          fields={{}}
          cancelHref="/admin/view/webhooks"
        />
      </Layout>,
    );
  });

  app.post("/admin/forms/webhooks/:id/remove", requireAdminPage(), async (c) => {
    const id = z.uuid().safeParse(c.req.param("id"));
    const form = await readBody(c, confirmation);
    if (id.success && form.confirmed !== "yes") {
      return c.redirect(`/admin/view/webhooks/${id.data}/remove`, 303);
    }
    return changeThenBack(c, "/admin/view/webhooks", "webhook_removed", async () => {
      await assertRecentAuthOf(c);
      if (!id.success) throw new DomainError("webhook_not_found");
      await removeWebhookEndpointAudited(deps, actorOf(c), id.data);
    });
  });

  app.get("/admin/view/clients", requireAdminPage(), async (c) => {
    const clients = await listClients(pool);
    return c.html(
      <Layout title="Clients" frame={await frameOf(c, "clients")} {...flashOf(c)}>
        <ClientsList clients={clients.map(toClientView)} algs={deps.idTokens.algs} />
      </Layout>,
    );
  });

  app.post("/admin/forms/clients", requireAdminPage(), async (c) => {
    const form = await c.req.formData().catch(() => null);
    const lines = (name: string) =>
      String(form?.get(name) ?? "")
        .split(/\r?\n/)
        .map((line) => line.trim())
        .filter((line) => line !== "");
    const input = clientBody.safeParse({
      name: form?.get("name"),
      redirect_uris: lines("redirect_uris"),
      post_logout_redirect_uris: lines("post_logout_redirect_uris"),
      allowed_scopes: form?.getAll("allowed_scopes"),
      public: form?.get("public") === "yes",
      first_party: form?.get("first_party") === "yes",
      id_token_signed_response_alg: form?.get("id_token_signed_response_alg") || undefined,
      backchannel_logout_uri: form?.get("backchannel_logout_uri") || undefined,
    });
    if (!input.success) {
      return c.redirect(withFlash("/admin/view/clients", { error: "validation_failed" }), 303);
    }
    return secretShownOnce(c, false, async () =>
      addClient(deps, actorOf(c), input.data, deps.idTokens.algs),
    );
  });

  app.post("/admin/forms/clients/:id/secret", requireAdminPage(), async (c) => {
    await readBody(c, z.object({}));
    return secretShownOnce(c, true, () => rotateClientSecret(deps, actorOf(c), c.req.param("id")));
  });

  /** Runs a change that makes a secret and answers the page showing it, this once. */
  async function secretShownOnce(
    c: Context<AppEnv>,
    rotated: boolean,
    change: () => Promise<{ client: Parameters<typeof toClientView>[0]; secret: string | null }>,
  ) {
    try {
      await assertRecentAuthOf(c);
      const { client, secret } = await change();
      // The secret must not outlive this page in any cache.
      c.header("cache-control", "no-store");
      return c.html(
        <Layout
          title={rotated ? "Secret rotated" : "Client registered"}
          frame={await frameOf(c, "clients")}
        >
          <ClientSecretShown client={toClientView(client)} secret={secret} rotated={rotated} />
        </Layout>,
      );
    } catch (error) {
      if (error instanceof DomainError) {
        return c.redirect(withFlash("/admin/view/clients", { error: error.code }), 303);
      }
      throw error;
    }
  }

  app.get("/admin/view/clients/:id/remove", requireAdminPage(), async (c) => {
    const client = await findClient(pool, c.req.param("id"));
    if (!client) return notFound(c, errorMessage("client_not_found"));
    const users = await usersOfClient(pool, client.id);
    return c.html(
      <Layout title="Are you sure?" frame={await frameOf(c, "clients")}>
        <ConfirmStep
          subject={`${client.name} (${client.id})`}
          question="Remove the client"
          consequence={`It can no longer sign anyone in: its users (${users} now, who allowed it or are signed in to it) are signed out of it at once (its sessions, refresh tokens and codes end) and their consents are deleted. Registering it again gives a new client ID.`}
          button="Remove client"
          action={`/admin/forms/clients/${client.id}/remove`}
          fields={{}}
          cancelHref="/admin/view/clients"
        />
      </Layout>,
    );
  });

  app.post("/admin/forms/clients/:id/remove", requireAdminPage(), async (c) => {
    const id = z.uuid().safeParse(c.req.param("id"));
    const form = await readBody(c, confirmation);
    if (id.success && form.confirmed !== "yes") {
      return c.redirect(`/admin/view/clients/${id.data}/remove`, 303);
    }
    return changeThenBack(c, "/admin/view/clients", "client_removed", async () => {
      await assertRecentAuthOf(c);
      await removeClient(deps, actorOf(c), c.req.param("id"));
    });
  });

  return app;
}

/** How many of an endpoint's deliveries its screen lists. */
const latestDeliveries = 10;
