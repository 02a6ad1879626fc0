import { type Context, Hono } from "hono";
import { z } from "zod";
import type { AuditedDeps } from "../../audit.ts";
import { hasCode } from "../../errors.ts";
import { dryRunRule, type ExplainDeps } from "../../gate/access-explanation.ts";
import {
  addAllowlistRule,
  allowlistRuleBody,
  allowlistRuleImpact,
  allowlistRules,
  deleteAllowlistRuleAudited,
  waitingUsersByRule,
} from "../../gate/allowlist.ts";
import { actorOf } from "../../http/admin-request.ts";
import type { AppEnv } from "../../http/app-env.ts";
import { errorMessage } from "../../http/error-map.ts";
import { readBody } from "../../http/json-body.ts";
import { assertRecentAuthOf } from "../../http/recent-auth.ts";
import { userIdOfEmail } from "../../users/user-list.ts";
import type { DryRunFields, DryRunOutcome } from "../admin/access.tsx";
import { AllowlistRules } from "../admin/allowlist.tsx";
import { withFlash } from "../admin/flash.ts";
import { Layout } from "../admin/layout.tsx";
import {
  changeThenBack,
  confirmation,
  confirmedChange,
  confirmScreen,
  flashOf,
  frameOf,
  notFoundScreen,
  requireAdminPage,
} from "./answers.tsx";

// The console's allowlist: the rules, with the users waiting on each, a
// rule's dry run, adding a rule, and deleting one after its impact is shown.

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

export function adminAllowlistScreen(deps: ExplainDeps & AuditedDeps) {
  const { pool } = deps;
  const app = new Hono<AppEnv>();

  async function allowlistScreen(
    c: Context<AppEnv>,
    dryRun?: { fields: DryRunFields; outcome: DryRunOutcome },
    status: 200 | 400 | 404 = 200,
  ) {
    const [rules, waiting, frame] = await Promise.all([
      allowlistRules(pool),
      waitingUsersByRule(pool),
      frameOf(c, pool, "allowlist"),
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
    if (!impact) return notFoundScreen(c, pool, errorMessage("rule_not_found"));
    const { rule, unapproved, kept } = impact;
    return confirmScreen(
      c,
      pool,
      "allowlist",
      {
        subject: `${rule.kind} ${rule.value}`,
        question: "Delete the allowlist rule",
        consequence: `Nobody new is approved by it from now on. ${unapproved} ${unapproved === 1 ? "user" : "users"} only it lets in will lose access (pending again, signed out); ${kept} it let in keep access through another rule or ADMIN_EMAILS. Users approved by hand are not touched.`,
        button: "Delete rule",
        action: `/admin/forms/allowlist/${rule.id}/delete`,
        // What the administrator saw: refused if the deletion would now do otherwise.
        fields: { expected_unapproved: String(unapproved) },
        cancelHref: "/admin/view/allowlist",
      },
      flashOf(c),
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

  app.post("/admin/forms/allowlist/:id/delete", requireAdminPage(), (c) =>
    confirmedChange(
      c,
      ruleDeletionForm,
      {
        confirmHref: (id) => `/admin/view/allowlist/${id}/delete`,
        back: "/admin/view/allowlist",
        notice: "rule_deleted",
        missing: "rule_not_found",
      },
      (id, form) =>
        deleteAllowlistRuleAudited(deps, actorOf(c), id, {
          ...(form.expected_unapproved !== undefined
            ? { expectedUnapproved: form.expected_unapproved }
            : {}),
        }),
    ),
  );

  return app;
}
