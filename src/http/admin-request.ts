import type { Context } from "hono";
import { z } from "zod";
import { DomainError } from "../errors.ts";
import { printableText } from "../text-input.ts";
import type { Actor } from "../users/administration.ts";
import { userRoles, userStatuses } from "../users/user-list.ts";
import type { AppEnv } from "./app-env.ts";
import { requestAuditFields } from "./audit-fields.ts";
import { decodeCursor } from "./cursor.ts";

// What the admin API and the admin page both read from a request.

export const booleanParam = z.enum(["true", "false"]).transform((v) => v === "true");

export const userListQuery = z.object({
  q: printableText(200).trim().optional(),
  status: z.enum(userStatuses).optional(),
  whitelisted: booleanParam.optional(),
  role: z.enum(userRoles).optional(),
  mfa: z
    .enum(["none", "enrolled"])
    .optional()
    .meta({ description: "none: users without a second factor; enrolled: users with one" }),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});

export type UserListQuery = z.infer<typeof userListQuery>;

/** The list filter a user-list query asks for (its cursor decoded, or a 400). */
export function userListFilter(query: UserListQuery) {
  const cursor = query.cursor ? decodeCursor(query.cursor) : undefined;
  return {
    query: query.q || undefined,
    status: query.status,
    whitelisted: query.whitelisted,
    role: query.role,
    mfa: query.mfa,
    before: cursor ? { createdAt: cursor.time, id: cursor.id } : undefined,
  };
}

export const userIdParam = z.uuid();

/** The :id of the path, or 404: a malformed id names no user. */
export function targetUserId(c: Context): string {
  const parsed = userIdParam.safeParse(c.req.param("id"));
  if (!parsed.success) throw new DomainError("user_not_found");
  return parsed.data;
}

/** The signed-in administrator and where they act from, for the audit trail. */
export function actorOf(c: Context<AppEnv>): Actor {
  return { actorId: c.get("principal")?.user.user_id ?? "", ...requestAuditFields(c) };
}
