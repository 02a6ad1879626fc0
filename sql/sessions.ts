import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";
import { type ClaimsGrant, claimsGrant } from "./oauth-authorization-codes.ts";
import { userRow } from "./users.ts";

export const sessionRow = z.object({
  id: z.uuid(),
  user_id: z.uuid(),
  created_at: z.date(),
  last_seen_at: z.date(),
  expires_at: z.date(),
  /** Seconds of inactivity after which the session ends. */
  idle_timeout: z.number(),
  ip: z.string().nullable(),
  user_agent: z.string().nullable(),
  revoked_at: z.date().nullable(),
  revoked_reason: z.string().nullable(),
});
export type Session = z.infer<typeof sessionRow>;

const sessionColumns = sql.fragment`
  id, user_id, created_at, last_seen_at, expires_at, idle_timeout, host(ip) AS ip, user_agent,
  revoked_at, revoked_reason`;

export type NewSession = {
  tokenHash: Buffer;
  userId: string;
  expiresAt: Date;
  idleTimeoutSeconds: number;
  ip: string | null;
  userAgent: string | null;
  /** How the sign-in was proved (pwd, fed, otp, recovery_code): RFC 8176 method references. */
  amr?: readonly string[];
};

export async function insertSession(db: CommonQueryMethods, session: NewSession): Promise<Session> {
  return db.one(sql.type(sessionRow)`
    INSERT INTO sessions (token_hash, user_id, expires_at, idle_timeout, ip, user_agent, amr)
    VALUES (${sql.binary(session.tokenHash)}, ${session.userId}, ${sql.timestamp(session.expiresAt)},
            make_interval(secs => ${session.idleTimeoutSeconds}), ${session.ip},
            ${session.userAgent?.slice(0, 512) ?? null}, ${sql.array(session.amr ?? [], "text")})
    RETURNING ${sessionColumns}`);
}

export async function listLiveSessionsOfUser(
  db: CommonQueryMethods,
  userId: string,
): Promise<readonly Session[]> {
  return db.any(sql.type(sessionRow)`
    SELECT ${sessionColumns} FROM sessions
    WHERE user_id = ${userId} AND revoked_at IS NULL AND expires_at > now()
      AND last_seen_at + idle_timeout > now()
    ORDER BY last_seen_at DESC`);
}

export async function revokeSession(
  db: CommonQueryMethods,
  id: string,
  reason: string,
): Promise<boolean> {
  const result = await db.query(sql.unsafe`
    UPDATE sessions SET revoked_at = now(), revoked_reason = ${reason}
    WHERE id = ${id} AND revoked_at IS NULL`);
  return result.rowCount === 1;
}

export async function revokeSessionsOfUser(
  db: CommonQueryMethods,
  userId: string,
  reason: string,
): Promise<number> {
  const result = await db.query(sql.unsafe`
    UPDATE sessions SET revoked_at = now(), revoked_reason = ${reason}
    WHERE user_id = ${userId} AND revoked_at IS NULL`);
  return result.rowCount;
}

/**
 * A refresh's one read of its session: moves last_seen_at forward (at most
 * once a minute) and returns how its sign-in was proved, for the access
 * tokens the refresh issues.
 */
export async function touchSessionReadingAmr(
  db: CommonQueryMethods,
  id: string,
): Promise<readonly string[]> {
  return (
    (await db.maybeOneFirst(sql.type(z.object({ amr: z.array(z.string()) }))`
      WITH touched AS (
        UPDATE sessions SET last_seen_at = now()
        WHERE id = ${id} AND last_seen_at < now() - interval '1 minute')
      SELECT amr FROM sessions WHERE id = ${id}`)) ?? []
  );
}

/**
 * A session with given times, e.g. an already expired one (seed data, cleanup
 * tests); its user last proved who they are at `createdAt`.
 */
export async function insertSessionAt(
  db: CommonQueryMethods,
  session: NewSession & {
    createdAt: Date;
    lastSeenAt: Date;
    revokedAt?: Date | null;
    /** The relying party (src/oidc) whose tokens the session holds. */
    clientId?: string | null;
    /** What its grant carries beyond its scopes (the acr asked for). */
    clientClaims?: ClaimsGrant | null;
  },
): Promise<Session> {
  return db.one(sql.type(sessionRow)`
    INSERT INTO sessions (token_hash, user_id, created_at, authenticated_at, last_seen_at,
                          expires_at, idle_timeout, ip, user_agent, revoked_at, revoked_reason, amr,
                          client_id, client_claims)
    VALUES (${sql.binary(session.tokenHash)}, ${session.userId}, ${sql.timestamp(session.createdAt)},
            ${sql.timestamp(session.createdAt)},
            ${sql.timestamp(session.lastSeenAt)}, ${sql.timestamp(session.expiresAt)},
            make_interval(secs => ${session.idleTimeoutSeconds}), ${session.ip},
            ${session.userAgent?.slice(0, 512) ?? null},
            ${session.revokedAt ? sql.timestamp(session.revokedAt) : null},
            ${session.revokedAt ? "seed" : null}, ${sql.array(session.amr ?? [], "text")},
            ${session.clientId ?? null},
            ${session.clientClaims ? sql.jsonb(session.clientClaims) : null})
    RETURNING ${sessionColumns}`);
}

export async function countLiveSessions(db: CommonQueryMethods): Promise<number> {
  return db.oneFirst(sql.type(z.object({ count: z.number().int() }))`
    SELECT count(*)::int AS count FROM sessions
    WHERE revoked_at IS NULL AND expires_at > now() AND last_seen_at + idle_timeout > now()`);
}

// Dead before the cutoff: revoked, past absolute expiry, or idle past its
// timeout. A session some live refresh token still hangs off is kept:
// deleting it would cascade to that token and sign a CLI client out.
const deadSession = (cutoff: Date) => sql.fragment`
  (s.revoked_at < ${sql.timestamp(cutoff)} OR s.expires_at < ${sql.timestamp(cutoff)}
   OR s.last_seen_at + s.idle_timeout < ${sql.timestamp(cutoff)})
  AND NOT EXISTS (SELECT 1 FROM refresh_tokens r
                  WHERE r.session_id = s.id AND r.revoked_at IS NULL AND r.expires_at > now())`;

export const deletedBatchRow = z.object({ removed: z.number().int(), last: z.uuid().nullable() });
export type DeletedBatch = z.infer<typeof deletedBatchRow>;

/**
 * Deletes at most `limit` sessions dead before `cutoff` whose id is past
 * `after`, walking the primary key, and returns how many and the last id
 * seen. Keyset steps keep each batch short at any table size: a plain
 * "first N dead rows" would rescan the rows earlier batches passed over, as
 * no index serves the dead-session condition.
 */
export async function deleteDeadSessions(
  db: CommonQueryMethods,
  cutoff: Date,
  limit: number,
  after: string | null,
): Promise<DeletedBatch> {
  return db.one(sql.type(deletedBatchRow)`
    WITH doomed AS (
      SELECT s.id FROM sessions s
      WHERE ${after ? sql.fragment`s.id > ${after} AND` : sql.fragment``} ${deadSession(cutoff)}
      ORDER BY s.id LIMIT ${limit} FOR UPDATE SKIP LOCKED),
    gone AS (DELETE FROM sessions WHERE id IN (SELECT id FROM doomed) RETURNING id)
    SELECT (SELECT count(*)::int FROM gone) AS removed,
           (SELECT id FROM doomed ORDER BY id DESC LIMIT 1) AS last`);
}

export async function countDeadSessions(db: CommonQueryMethods, cutoff: Date): Promise<number> {
  return db.oneFirst(sql.type(z.object({ count: z.number().int() }))`
    SELECT count(*)::int AS count FROM sessions s WHERE ${deadSession(cutoff)}`);
}

export async function findSessionById(db: CommonQueryMethods, id: string): Promise<Session | null> {
  return db.maybeOne(sql.type(sessionRow)`SELECT ${sessionColumns} FROM sessions WHERE id = ${id}`);
}

/** Every session row of a user, ended ones included, newest first (export, admin view). */
export async function listSessionsOfUser(
  db: CommonQueryMethods,
  userId: string,
  limit: number,
): Promise<readonly Session[]> {
  return db.any(sql.type(sessionRow)`
    SELECT ${sessionColumns} FROM sessions
    WHERE user_id = ${userId}
    ORDER BY created_at DESC
    LIMIT ${limit}`);
}

/**
 * Ends a relying party's sessions of a user (their refresh tokens end with
 * them, by the trigger sessions_revoke_refresh_tokens); how many.
 */
export async function revokeClientSessionsOfUser(
  db: CommonQueryMethods,
  userId: string,
  clientId: string,
  reason: string,
): Promise<number> {
  const result = await db.query(sql.unsafe`
    UPDATE sessions SET revoked_at = now(), revoked_reason = ${reason}
    WHERE user_id = ${userId} AND client_id = ${clientId} AND revoked_at IS NULL`);
  return result.rowCount;
}

/** Signs the user out everywhere but `keptSessionId` (a password change keeps the caller's session). */
export async function revokeOtherSessionsOfUser(
  db: CommonQueryMethods,
  userId: string,
  keptSessionId: string | null,
  reason: string,
): Promise<number> {
  const result = await db.query(sql.unsafe`
    UPDATE sessions SET revoked_at = now(), revoked_reason = ${reason}
    WHERE user_id = ${userId} AND revoked_at IS NULL
      AND id IS DISTINCT FROM ${keptSessionId}::uuid`);
  return result.rowCount;
}

/**
 * When the user of unrevoked session `id` last proved who they are (its
 * sign-in, or a later step-up); null when there is no such session. Sessions
 * older than the column count from their creation.
 */
export async function findSessionAuthenticatedAt(
  db: CommonQueryMethods,
  id: string,
): Promise<Date | null> {
  return db.maybeOneFirst(sql.type(z.object({ authenticated_at: z.date() }))`
    SELECT coalesce(authenticated_at, created_at) AS authenticated_at
    FROM sessions WHERE id = ${id} AND revoked_at IS NULL`);
}

/**
 * A relying party's unrevoked session: the sign-in its grant carries and
 * what the grant was given beyond its scopes.
 */
export async function findClientSessionGrant(
  db: CommonQueryMethods,
  id: string,
): Promise<{ authenticated_at: Date; client_claims: ClaimsGrant | null } | null> {
  return db.maybeOne(sql.type(
    z.object({ authenticated_at: z.date(), client_claims: claimsGrant.nullable() }),
  )`
    SELECT coalesce(authenticated_at, created_at) AS authenticated_at, client_claims
    FROM sessions WHERE id = ${id} AND revoked_at IS NULL`);
}

/** A step-up: the session's user proved who they are again now; false when it is revoked. */
export async function markSessionAuthenticated(
  db: CommonQueryMethods,
  id: string,
): Promise<boolean> {
  const result = await db.query(sql.unsafe`
    UPDATE sessions SET authenticated_at = now() WHERE id = ${id} AND revoked_at IS NULL`);
  return result.rowCount === 1;
}
