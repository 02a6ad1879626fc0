import type { DatabasePool } from "slonik";
import { z } from "zod";
import { allowlistKinds, listAllowlistRules } from "../../sql/allowlist-rules.ts";
import { DomainError } from "../errors.ts";
import { addAllowlistRule, deleteAllowlistRuleAudited } from "../gate/allowlist.ts";
import { ApiRoutes, operation } from "../http/api-route.ts";
import { readBody } from "../http/json-body.ts";
import type { Logger } from "../logger.ts";
import { emailAddress, mailDomain } from "../text-input.ts";
import { actorOf } from "./admin-users.ts";

// The same shapes as the table's CHECK constraints, checked first so bad input
// is a 400 naming the field rather than a database error.
const lowerText = (max: number) => z.string().trim().toLowerCase().min(1).max(max);
export const allowlistRuleBody = z.discriminatedUnion("kind", [
  // The same address and domain checks as sign-up: a rule value such as
  // `%@%` is no address, and a rule is matched only by equality anyway.
  z.strictObject({
    kind: z.literal("email"),
    value: emailAddress.transform((email) => email.toLowerCase()),
  }),
  z.strictObject({ kind: z.literal("domain"), value: mailDomain }),
  z.strictObject({
    kind: z.literal("github_org"),
    value: lowerText(39).regex(/^[a-z0-9][a-z0-9-]{0,38}$/, "expected a GitHub organisation"),
  }),
  z.strictObject({
    kind: z.literal("github_team"),
    value: lowerText(140).regex(
      /^[a-z0-9][a-z0-9-]{0,38}\/[a-z0-9_.-]{1,100}$/,
      "expected org/team-slug",
    ),
  }),
]);

const allowlistRuleResponse = z
  .object({
    id: z.uuid(),
    kind: z.enum(allowlistKinds),
    value: z.string(),
    created_by: z.uuid().nullable(),
    created_at: z.iso.datetime(),
  })
  .meta({ id: "AllowlistRule", description: "Who may pass the gate without an approval" });

export function toRuleView(rule: {
  id: string;
  kind: string;
  value: string;
  created_by: string | null;
  created_at: Date;
}) {
  return { ...rule, created_at: rule.created_at.toISOString() };
}

export function adminAllowlistRoutes(deps: { pool: DatabasePool; logger: Logger }) {
  const routes = new ApiRoutes();

  routes.add(listAllowlistRulesOperation, async (c) => {
    const rules = await listAllowlistRules(deps.pool);
    return c.json({ rules: rules.map(toRuleView) });
  });

  routes.add(addAllowlistRuleOperation, async (c) => {
    const body = await readBody(c, allowlistRuleBody);
    const rule = await addAllowlistRule(deps, actorOf(c), body);
    return c.json(toRuleView(rule), 201);
  });

  routes.add(deleteAllowlistRuleOperation, async (c) => {
    const id = z.uuid().safeParse(c.req.param("id"));
    if (!id.success) throw new DomainError("rule_not_found");
    await deleteAllowlistRuleAudited(deps, actorOf(c), id.data);
    return c.body(null, 204);
  });

  return routes;
}

const listAllowlistRulesOperation = operation({
  operationId: "listAllowlistRules",
  method: "get",
  path: "/admin/allowlist",
  summary: "Allowlist rules",
  tag: "admin",
  access: "admin",
  responses: {
    200: { description: "The rules", body: z.object({ rules: z.array(allowlistRuleResponse) }) },
  },
});

const addAllowlistRuleOperation = operation({
  operationId: "addAllowlistRule",
  method: "post",
  path: "/admin/allowlist",
  summary: "Add an allowlist rule (email, domain, github_org, github_team)",
  tag: "admin",
  access: "admin",
  body: allowlistRuleBody,
  responses: {
    201: { description: "The new rule", body: allowlistRuleResponse },
    409: { description: "The same rule exists already" },
  },
});

const deleteAllowlistRuleOperation = operation({
  operationId: "deleteAllowlistRule",
  method: "delete",
  path: "/admin/allowlist/:id",
  summary: "Delete an allowlist rule",
  tag: "admin",
  access: "admin",
  responses: { 204: { description: "Deleted" }, 404: { description: "No such rule" } },
});
