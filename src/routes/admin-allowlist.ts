import type { DatabasePool } from "slonik";
import { z } from "zod";
import { DomainError } from "../errors.ts";
import {
  addAllowlistRule,
  allowlistKinds,
  allowlistRuleBody,
  allowlistRules,
  deleteAllowlistRuleAudited,
  toRuleView,
} from "../gate/allowlist.ts";
import { actorOf } from "../http/admin-request.ts";
import { ApiRoutes, operationsOf } from "../http/api-route.ts";
import { readBody } from "../http/json-body.ts";
import type { Logger } from "../logger.ts";

const adminOperation = operationsOf({ tag: "admin", access: "admin" });

const allowlistRuleResponse = z
  .object({
    id: z.uuid(),
    kind: z.enum(allowlistKinds),
    value: z.string(),
    created_by: z.uuid().nullable(),
    created_at: z.iso.datetime(),
  })
  .meta({ id: "AllowlistRule", description: "Who may pass the gate without an approval" });

export function adminAllowlistRoutes(deps: { pool: DatabasePool; logger: Logger }) {
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
    adminOperation("DELETE /admin/allowlist/:id", "deleteAllowlistRule", {
      summary: "Delete an allowlist rule",
      responses: { 204: { description: "Deleted" }, 404: { description: "No such rule" } },
    }),
    async (c) => {
      const id = z.uuid().safeParse(c.req.param("id"));
      if (!id.success) throw new DomainError("rule_not_found");
      await deleteAllowlistRuleAudited(deps, actorOf(c), id.data);
      return c.body(null, 204);
    },
  );

  return routes;
}
