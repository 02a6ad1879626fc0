import type { Context } from "hono";
import { z } from "zod";
import { DomainError } from "../errors.ts";
import { dryRunReasons, dryRunRule } from "../gate/access-explanation.ts";
import {
  addAllowlistRule,
  allowlistRuleBody,
  allowlistRuleImpact,
  allowlistRules,
  deleteAllowlistRuleAudited,
  type RuleDeletionDeps,
  toImpactView,
  toRuleView,
} from "../gate/allowlist.ts";
import { actorOf } from "../http/admin-request.ts";
import { allowlistRuleResponse } from "../http/allowlist-schemas.ts";
import { ApiRoutes, operationsOf } from "../http/api-route.ts";
import { readBody } from "../http/json-body.ts";
import { readQuery } from "../http/query-params.ts";

const adminOperation = operationsOf({ tag: "admin", access: "admin" });

const impactResponse = z
  .object({
    rule: allowlistRuleResponse,
    unapproved: z.number().int().meta({
      description:
        "Users only this rule lets in: deleting it makes them pending and signs them out",
    }),
    kept: z.number().int().meta({
      description: "Users it let in who keep access through another rule or ADMIN_EMAILS",
    }),
  })
  .meta({ id: "AllowlistRuleImpact" });

const deleteRuleQuery = z.object({
  expected_unapproved: z.coerce.number().int().min(0).optional().meta({
    description:
      "The impact's `unapproved` as the administrator saw it: the deletion is refused (409 rule_impact_changed) when it would now take access from a different number",
  }),
});

const dryRunBody = z.strictObject({ rule: allowlistRuleBody, user_id: z.uuid() });

const dryRunResponse = z
  .object({
    would_admit: z.boolean(),
    reason: z.enum(dryRunReasons).meta({ description: "Why (or why not)" }),
  })
  .meta({ id: "AllowlistDryRun" });

function ruleIdOf(c: Context): string {
  const id = z.uuid().safeParse(c.req.param("id"));
  if (!id.success) throw new DomainError("rule_not_found");
  return id.data;
}

export function adminAllowlistRoutes(deps: RuleDeletionDeps) {
  const routes = new ApiRoutes();

  routes.add(
    adminOperation("GET /admin/allowlist", "listAllowlistRules", {
      summary: "Allowlist rules",
      responses: {
        200: {
          description: "The rules",
          body: z.object({ rules: z.array(allowlistRuleResponse) }),
        },
      },
    }),
    async (c) => {
      const rules = await allowlistRules(deps.pool);
      return c.json({ rules: rules.map(toRuleView) });
    },
  );

  routes.add(
    adminOperation("POST /admin/allowlist", "addAllowlistRule", {
      summary: "Add an allowlist rule (email, domain, github_org, github_team)",
      body: allowlistRuleBody,
      responses: {
        201: { description: "The new rule", body: allowlistRuleResponse },
        409: { description: "The same rule exists already" },
      },
    }),
    async (c) => {
      const body = await readBody(c, allowlistRuleBody);
      const rule = await addAllowlistRule(deps, actorOf(c), body);
      return c.json(toRuleView(rule), 201);
    },
  );

  routes.add(
    adminOperation("GET /admin/allowlist/:id/impact", "getAllowlistRuleImpact", {
      summary:
        "What deleting a rule would do: how many users it alone lets in (they would lose access)",
      responses: {
        200: {
          description: "The rule and the users its deletion would affect",
          body: impactResponse,
        },
        404: { description: "No such rule" },
      },
    }),
    async (c) => {
      const impact = await allowlistRuleImpact(deps, ruleIdOf(c));
      return c.json(toImpactView(impact));
    },
  );

  routes.add(
    adminOperation("DELETE /admin/allowlist/:id", "deleteAllowlistRule", {
      summary:
        "Delete an allowlist rule: the users it alone let in are pending again and signed out",
      query: deleteRuleQuery,
      responses: {
        204: { description: "Deleted" },
        404: { description: "No such rule" },
        409: {
          description:
            "expected_unapproved differs from what the deletion would do now, or it would leave no usable administrator",
        },
      },
    }),
    async (c) => {
      const id = ruleIdOf(c);
      const query = readQuery(c, deleteRuleQuery);
      await deleteAllowlistRuleAudited(deps, actorOf(c), id, {
        ...(query.expected_unapproved !== undefined
          ? { expectedUnapproved: query.expected_unapproved }
          : {}),
      });
      return c.body(null, 204);
    },
  );

  routes.add(
    adminOperation("POST /admin/allowlist/dry-run", "dryRunAllowlistRule", {
      summary: "Would this rule (stored or not) let this user in? Changes nothing",
      // It writes nothing: a read, like the GETs, needs no recent sign-in.
      recentAuth: false,
      body: dryRunBody,
      responses: {
        200: { description: "The answer and why", body: dryRunResponse },
        404: { description: "No such user" },
      },
    }),
    async (c) => {
      const body = await readBody(c, dryRunBody);
      return c.json(await dryRunRule(deps, body.rule, body.user_id));
    },
  );

  return routes;
}
