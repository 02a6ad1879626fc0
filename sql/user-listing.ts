import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";
import { arrivalEventTypes, arrivalRow } from "./audit-events.ts";
import { type UserRole, type UserStatus, userColumns, userRow } from "./users.ts";

// Reading many users: counts for health reports, the admin list, the pending queue.

export const userFiguresRow = z.object({
  total: z.number().int(),
  active: z.number().int(),
  inactive: z.number().int(),
  locked: z.number().int(),
  denied: z.number().int(),
  deleted: z.number().int(),
  unverified: z.number().int(),
  locked_out_now: z.number().int(),
  whitelisted: z.number().int(),
  pending_approval: z.number().int(),
  admins: z.number().int(),
});
export type UserFigures = z.infer<typeof userFiguresRow>;

/** Users by status and gate state, for health reports (deleted users count only as deleted). */
export async function countUsersByState(db: CommonQueryMethods): Promise<UserFigures> {
  return db.one(sql.type(userFiguresRow)`
    SELECT count(*)::int AS total,
      count(*) FILTER (WHERE status = 'active')::int AS active,
      count(*) FILTER (WHERE status = 'inactive')::int AS inactive,
      count(*) FILTER (WHERE status = 'locked')::int AS locked,
      count(*) FILTER (WHERE status = 'denied')::int AS denied,
      count(*) FILTER (WHERE status = 'deleted')::int AS deleted,
      count(*) FILTER (WHERE status <> 'deleted' AND NOT email_verified)::int AS unverified,
      count(*) FILTER (WHERE status <> 'deleted' AND locked_until > now())::int AS locked_out_now,
      count(*) FILTER (WHERE status <> 'deleted' AND is_whitelisted)::int AS whitelisted,
      count(*) FILTER (WHERE status = 'active' AND NOT is_whitelisted)::int AS pending_approval,
      count(*) FILTER (WHERE status <> 'deleted' AND role = 'admin')::int AS admins
    FROM users`);
}

/**
 * A page row: the user, their second factors (for the admin list), and its
 * created_at at full microsecond precision, for the cursor.
 */
export const userPageRow = userRow.extend({
  cursor_created_at: z.string(),
  totp_enabled: z.boolean(),
  recovery_codes_left: z.number().int(),
  passkeys: z.number().int(),
});
export type UserPageRow = z.infer<typeof userPageRow>;

export type UserListFilter = {
  /** Substring of email, username or full name (case-insensitive). */
  query?: string;
  /** Without a status, deleted (anonymised) users are left out. */
  status?: UserStatus;
  whitelisted?: boolean;
  role?: UserRole;
  /** none: users without a second factor; enrolled: users with one. */
  mfa?: "none" | "enrolled";
  /** Keyset cursor: rows strictly older than this (created_at, id). */
  before?: { createdAt: string; id: string };
  limit: number;
};

// A timestamptz rendered to the microsecond in UTC: a JavaScript Date keeps
// only milliseconds, and a cursor rounded to them would skip or repeat rows.
const exactCreatedAt = sql.fragment`
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_created_at`;

function likePattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * Newest first, keyset-paginated on (created_at, id): each page is one index
 * range scan however deep it is, and a row inserted meanwhile lands before the
 * cursor, so no row already listed or still to come is skipped or repeated.
 */
export async function listUsersPage(
  db: CommonQueryMethods,
  filter: UserListFilter,
): Promise<readonly UserPageRow[]> {
  const conditions = [
    filter.status ? sql.fragment`status = ${filter.status}` : sql.fragment`status <> 'deleted'`,
  ];
  if (filter.query) {
    conditions.push(
      sql.fragment`users_search_text(email, username, full_name) LIKE ${likePattern(filter.query)}`,
    );
  }
  if (filter.whitelisted !== undefined) {
    conditions.push(sql.fragment`is_whitelisted = ${filter.whitelisted}`);
  }
  if (filter.role) conditions.push(sql.fragment`role = ${filter.role}`);
  if (filter.mfa) {
    const enrolled = sql.fragment`(EXISTS (SELECT 1 FROM mfa_totp t
                                           WHERE t.user_id = users.id AND t.confirmed_at IS NOT NULL)
                               OR EXISTS (SELECT 1 FROM passkeys p WHERE p.user_id = users.id))`;
    conditions.push(filter.mfa === "none" ? sql.fragment`NOT ${enrolled}` : enrolled);
  }
  if (filter.before) {
    conditions.push(
      sql.fragment`(created_at, id) < (${filter.before.createdAt}::timestamptz, ${filter.before.id}::uuid)`,
    );
  }
  return db.any(sql.type(userPageRow)`
    SELECT ${userColumns}, ${exactCreatedAt},
      EXISTS (SELECT 1 FROM mfa_totp t
              WHERE t.user_id = users.id AND t.confirmed_at IS NOT NULL) AS totp_enabled,
      (SELECT count(*)::int FROM mfa_recovery_codes r
       WHERE r.user_id = users.id AND r.used_at IS NULL) AS recovery_codes_left,
      (SELECT count(*)::int FROM passkeys p WHERE p.user_id = users.id) AS passkeys
    FROM users
    WHERE ${sql.join(conditions, sql.fragment` AND `)}
    ORDER BY created_at DESC, id DESC
    LIMIT ${filter.limit}`);
}

/**
 * A user waiting for approval, with how they can sign in (a password, the
 * providers linked) and how they arrived: the audit event that created the
 * account (`signup` for a password sign-up, `user.created` for a first
 * provider sign-in, with its context), null when none was recorded (seeded
 * or created before these events existed, or the event was pruned).
 */
export const pendingUserRow = userRow.extend({
  providers: z.array(z.string()),
  ...arrivalRow.shape,
});
export type PendingUser = z.infer<typeof pendingUserRow>;

/** Signed-in users waiting for approval, oldest first (served by users_pending_idx). */
export async function listPendingUsers(
  db: CommonQueryMethods,
  limit: number,
): Promise<readonly PendingUser[]> {
  return db.any(sql.type(pendingUserRow)`
    SELECT ${userColumns},
      ARRAY(SELECT o.provider FROM oauth_accounts o WHERE o.user_id = users.id
            ORDER BY o.created_at) AS providers,
      arrival.event_type AS arrival_event, arrival.context AS arrival_context
    FROM users
    LEFT JOIN LATERAL (
      SELECT a.event_type, a.context FROM audit_events a
      WHERE a.user_id = users.id AND a.result = 'success'
        AND a.event_type = ANY(${sql.array([...arrivalEventTypes], "text")})
      ORDER BY a.occurred_at LIMIT 1) arrival ON TRUE
    WHERE NOT is_whitelisted AND status = 'active'
    ORDER BY created_at
    LIMIT ${limit}`);
}

/** How many users wait for approval (the admin page's count; the list shows the oldest only). */
export async function countPendingUsers(db: CommonQueryMethods): Promise<number> {
  return db.oneFirst(sql.type(z.object({ count: z.number().int() }))`
    SELECT count(*)::int AS count FROM users WHERE NOT is_whitelisted AND status = 'active'`);
}

export const userLabelRow = z.object({
  id: z.uuid(),
  email: z.string().nullable(),
  username: z.string().nullable(),
});
export type UserLabel = z.infer<typeof userLabelRow>;

/** How to name each of these users (the audit log's who and by whom). */
export async function listUserLabels(
  db: CommonQueryMethods,
  ids: readonly string[],
): Promise<readonly UserLabel[]> {
  if (ids.length === 0) return [];
  return db.any(sql.type(userLabelRow)`
    SELECT id, email, username FROM users WHERE id = ANY(${sql.array(ids, "uuid")})`);
}
