import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";
import { sessionRow } from "./sessions.ts";

// The sessions table as a user's devices: what the account center lists and
// signs out one at a time.

export const deviceRow = sessionRow
  .pick({
    id: true,
    created_at: true,
    last_seen_at: true,
    expires_at: true,
    ip: true,
    user_agent: true,
  })
  .extend({ kind: z.enum(["browser", "token"]) });
export type Device = z.infer<typeof deviceRow>;

/**
 * A user's live sessions as devices, most recently seen first: "token" for a
 * session that holds a refresh-token family (a CLI or app) or an OpenID
 * relying party's tokens, else "browser".
 */
export async function listDevicesOfUser(
  db: CommonQueryMethods,
  userId: string,
): Promise<readonly Device[]> {
  return db.any(sql.type(deviceRow)`
    SELECT s.id, s.created_at, s.last_seen_at, s.expires_at, host(s.ip) AS ip, s.user_agent,
           CASE WHEN s.client_id IS NOT NULL
                  OR EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.session_id = s.id)
                THEN 'token' ELSE 'browser' END AS kind
    FROM sessions s
    WHERE s.user_id = ${userId} AND s.revoked_at IS NULL AND s.expires_at > now()
      AND s.last_seen_at + s.idle_timeout > now()
    ORDER BY s.last_seen_at DESC, s.id`);
}

/** Revokes one of the user's sessions; false when it is not theirs or already revoked. */
export async function revokeSessionOfUser(
  db: CommonQueryMethods,
  userId: string,
  id: string,
  reason: string,
): Promise<boolean> {
  const result = await db.query(sql.unsafe`
    UPDATE sessions SET revoked_at = now(), revoked_reason = ${reason}
    WHERE id = ${id} AND user_id = ${userId} AND revoked_at IS NULL`);
  return result.rowCount === 1;
}
