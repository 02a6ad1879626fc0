import { z } from "zod";
import { DomainError } from "../errors.ts";
import {
  approvalSources,
  type ExplainDeps,
  explainAccess,
  missingReasons,
} from "../gate/access-explanation.ts";
import {
  actorOf,
  booleanParam,
  targetUserId,
  userListFilter,
  userListQuery,
} from "../http/admin-request.ts";
import { allowlistRuleResponse } from "../http/allowlist-schemas.ts";
import { ApiRoutes, operationsOf } from "../http/api-route.ts";
import { encodeCursor } from "../http/cursor.ts";
import { readBody } from "../http/json-body.ts";
import { readQuery } from "../http/query-params.ts";
import { type MfaResetDeps, resetSecondFactors } from "../mfa/admin-reset.ts";
import { printableText } from "../text-input.ts";
import { revokeUserAccess } from "../users/administration.ts";
import { type DecisionDeps, decideOnUser } from "../users/approval.ts";
import { deleteAccount } from "../users/deletion.ts";
import { adminUserListView, adminUserView, pageOfUsers } from "../users/user-list.ts";
import { adminUserDetail } from "../users/user-record.ts";
import { meResponse } from "../users/user-view.ts";

const adminOperation = operationsOf({ tag: "admin", access: "admin" });

export const userChangeBody = z
  .strictObject({
    status: z.enum(["active", "inactive", "locked", "denied"]),
    is_whitelisted: z.boolean(),
    role: z.enum(["user", "admin"]),
    reason: printableText(500)
      .trim()
      .min(1)
      .meta({ description: "Why the user is denied (with status denied only); mailed to them" }),
  })
  .partial()
  .refine(
    (v) => v.status !== undefined || v.is_whitelisted !== undefined || v.role !== undefined,
    "give at least one of status, is_whitelisted, role",
  )
  .superRefine((v, ctx) => {
    if (v.status === "denied" && !v.reason) {
      ctx.addIssue({ code: "custom", path: ["reason"], message: "say why the user is denied" });
    }
    if (v.status !== "denied" && v.reason !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["reason"],
        message: "a reason goes with status denied",
      });
    }
    if (v.status === "denied" && v.is_whitelisted === true) {
      ctx.addIssue({
        code: "custom",
        path: ["is_whitelisted"],
        message: "a denied user cannot be approved",
      });
    }
  });

const adminUserResponse = meResponse
  .extend({
    failed_login_attempts: z.number().int(),
    locked_until: z.iso.datetime().nullable(),
    updated_at: z.iso.datetime(),
  })
  .meta({ id: "AdminUser", description: "A user as administrators see them" });

const secondFactorsResponse = z
  .object({
    totp: z.boolean().meta({ description: "An authenticator app (TOTP) is on" }),
    recovery_codes_left: z.number().int(),
    passkeys: z.number().int().meta({ description: "How many passkeys are registered" }),
  })
  .meta({ id: "SecondFactors", description: "Which second factors a user has (never a secret)" });

const adminUserListItem = adminUserResponse.extend({ second_factors: secondFactorsResponse });

const userDetailResponse = z.object({
  user: adminUserResponse,
  second_factors: secondFactorsResponse,
  linked_accounts: z.array(
    z.object({
      provider: z.string(),
      email: z.string().nullable(),
      email_verified: z.boolean(),
      created_at: z.iso.datetime(),
    }),
  ),
  sessions: z.array(
    z.object({
      id: z.uuid(),
      created_at: z.iso.datetime(),
      last_seen_at: z.iso.datetime(),
      expires_at: z.iso.datetime(),
      ip: z.string().nullable(),
      user_agent: z.string().nullable(),
    }),
  ),
});

const accessExplanationResponse = z
  .object({
    user_id: z.uuid(),
    let_in: z.boolean().meta({ description: "The user passes the gate (nothing is missing)" }),
    status: z.enum(["active", "inactive", "locked", "denied", "deleted"]),
    missing: z.array(z.enum(missingReasons)).meta({
      description:
        "What keeps the user out: not active (deleted, denied, inactive, locked), pending_approval, email_unverified (rules match verified addresses only), second_factor (MFA_REQUIRED asks one of them and they have none)",
    }),
    approval: z.object({
      approved: z.boolean(),
      source: z.enum(approvalSources).nullable().meta({
        description:
          "How the approval came about: an administrator by hand (rules never touch it), an allowlist rule, ADMIN_EMAILS, or from before this was recorded",
      }),
      approved_at: z.iso.datetime().nullable(),
      rule: allowlistRuleResponse.nullable().meta({ description: "The rule that let the user in" }),
      decided_by_administrator: z
        .object({
          at: z.iso.datetime().nullable(),
          administrator: z.object({ id: z.uuid(), email: z.string().nullable() }).nullable(),
        })
        .nullable()
        .meta({
          description:
            "An administrator's last decision on the approval (administrator null: the command line)",
        }),
    }),
    rule_at_next_sign_in: allowlistRuleResponse.nullable().meta({
      description:
        "A pending user no administrator decided on: the rule that lets them in at their next sign-in",
    }),
  })
  .meta({ id: "AccessExplanation" });

const deleteQuery = z.object({ hard: booleanParam.default(false) });

export function adminUserRoutes(deps: MfaResetDeps & DecisionDeps & ExplainDeps) {
  const { pool } = deps;
  const routes = new ApiRoutes();

  routes.add(
    adminOperation("GET /admin/users", "listUsers", {
      summary:
        "List users with their second factors: search, status, whitelisted and second-factor (mfa) filters, keyset cursor",
      query: userListQuery,
      responses: {
        200: {
          description: "A page of users; next_cursor asks for the next one",
          body: z.object({ users: z.array(adminUserListItem), next_cursor: z.string().nullable() }),
        },
      },
    }),
    async (c) => {
      const query = readQuery(c, userListQuery);
      const { page, next } = await pageOfUsers(pool, userListFilter(query), query.limit);
      return c.json({
        users: page.map(adminUserListView),
        next_cursor: next ? encodeCursor(next.createdAt, next.id) : null,
      });
    },
  );

  routes.add(
    adminOperation("GET /admin/users/:id", "getUser", {
      summary: "One user with their second factors, linked providers and live sessions",
      responses: {
        200: {
          description: "The user, linked providers and live sessions",
          body: userDetailResponse,
        },
        404: { description: "No such user" },
      },
    }),
    async (c) => {
      const id = targetUserId(c);
      const detail = await adminUserDetail(pool, id);
      if (!detail) throw new DomainError("user_not_found");
      return c.json(detail);
    },
  );

  routes.add(
    adminOperation("GET /admin/users/:id/access", "explainUserAccess", {
      summary:
        "Why this user is or is not let in: who approved them and when, which rule, or what is missing",
      responses: {
        200: { description: "The explanation", body: accessExplanationResponse },
        404: { description: "No such user" },
      },
    }),
    async (c) => c.json(await explainAccess(deps, targetUserId(c))),
  );

  routes.add(
    adminOperation("PATCH /admin/users/:id", "updateUser", {
      summary:
        "Activate, deactivate, lock, unlock, approve, deny (with a reason), change role; an approved or denied user is told by mail",
      body: userChangeBody,
      responses: {
        200: { description: "The updated user", body: adminUserResponse },
        404: { description: "No such user" },
        409: { description: "Would remove the last admin" },
      },
    }),
    async (c) => {
      const id = targetUserId(c);
      const body = await readBody(c, userChangeBody);
      const user = await decideOnUser(deps, actorOf(c), id, {
        status: body.status,
        isWhitelisted: body.is_whitelisted,
        role: body.role,
        reason: body.reason,
      });
      return c.json(adminUserView(user));
    },
  );

  routes.add(
    adminOperation("DELETE /admin/users/:id", "deleteUser", {
      summary: "Delete a user (anonymise; ?hard=true removes the row)",
      query: z.object({ hard: z.enum(["true", "false"]).optional() }),
      responses: {
        204: { description: "Deleted" },
        404: { description: "No such user" },
        409: { description: "Would remove the last admin" },
      },
    }),
    async (c) => {
      const id = targetUserId(c);
      const { hard } = readQuery(c, deleteQuery);
      await deleteAccount(deps, { userId: id, ...actorOf(c), hard });
      return c.body(null, 204);
    },
  );

  routes.add(
    adminOperation("POST /admin/users/:id/sessions/revoke", "revokeUserSessions", {
      summary: "Sign a user out everywhere (sessions and refresh-token families)",
      responses: {
        200: {
          description: "How many sessions and refresh-token families were revoked",
          body: z.object({
            revoked_sessions: z.number().int(),
            revoked_refresh_tokens: z.number().int(),
          }),
        },
        404: { description: "No such user" },
      },
    }),
    async (c) => {
      const id = targetUserId(c);
      const revoked = await revokeUserAccess(deps, actorOf(c), id);
      return c.json({
        revoked_sessions: revoked.sessions,
        revoked_refresh_tokens: revoked.refreshTokens,
      });
    },
  );

  routes.add(
    adminOperation("POST /admin/users/:id/mfa/reset", "resetUserSecondFactors", {
      summary:
        "Reset a user's second factors (authenticator and recovery codes); the user is told by mail",
      responses: {
        200: {
          description: "What was removed (nothing, for a user who had none)",
          body: z.object({
            totp_removed: z.boolean(),
            recovery_codes_removed: z.number().int(),
          }),
        },
        404: { description: "No such user" },
      },
    }),
    async (c) => {
      const reset = await resetSecondFactors(deps, actorOf(c), targetUserId(c));
      return c.json(reset);
    },
  );

  return routes;
}
