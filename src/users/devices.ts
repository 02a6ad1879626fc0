import { type Device, listDevicesOfUser, revokeSessionOfUser } from "../../sql/devices.ts";
import { revokeOtherSessionsOfUser } from "../../sql/sessions.ts";
import { type AuditedDeps, type RequestFacts, recordAudit } from "../audit.ts";
import { sessionsRevoked } from "../metrics.ts";

// A user's devices are their live sessions: browsers (cookie) and token
// clients (each token sign-in opens its own session). Revoking one ends its
// refresh-token family in the same statement (the database trigger
// sessions_revoke_refresh_tokens) and its access tokens at their next use
// (the bearer check reads the session).

export type DeviceView = Device & { current: boolean };

export async function listDevices(
  { pool }: AuditedDeps,
  userId: string,
  currentSessionId: string | null,
): Promise<DeviceView[]> {
  const devices = await listDevicesOfUser(pool, userId);
  return devices.map((d) => ({ ...d, current: d.id === currentSessionId }));
}

/**
 * Revokes one of the caller's sessions. False when the id is not one of
 * theirs (another user's session looks exactly like a missing one) or is
 * already revoked.
 */
export async function revokeDevice(
  { pool, logger }: AuditedDeps,
  userId: string,
  sessionId: string,
  facts: RequestFacts,
): Promise<boolean> {
  const revoked = await pool.transaction(async (tx) => {
    if (!(await revokeSessionOfUser(tx, userId, sessionId, "user_revoked"))) return false;
    await recordAudit(tx, logger, {
      eventType: "session.revoked",
      result: "success",
      userId,
      ...facts,
      context: { session_id: sessionId, scope: "one" },
    });
    return true;
  });
  if (revoked) sessionsRevoked.inc({ reason: "user_revoked" });
  return revoked;
}

/** Revokes every session of the caller but the current one; returns how many. */
export async function revokeOtherDevices(
  { pool, logger }: AuditedDeps,
  userId: string,
  currentSessionId: string | null,
  facts: RequestFacts,
): Promise<number> {
  const count = await pool.transaction(async (tx) => {
    const revoked = await revokeOtherSessionsOfUser(tx, userId, currentSessionId, "user_revoked");
    await recordAudit(tx, logger, {
      eventType: "session.revoked",
      result: "success",
      userId,
      ...facts,
      context: { kept_session_id: currentSessionId, scope: "others", revoked_sessions: revoked },
    });
    return revoked;
  });
  sessionsRevoked.inc({ reason: "user_revoked" }, count);
  return count;
}
