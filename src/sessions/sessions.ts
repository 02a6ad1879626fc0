import { createHash, randomBytes } from "node:crypto";
import type { CommonQueryMethods } from "slonik";
import {
  findUnrevokedSessionsWithUsers,
  type SessionCheckRow,
  type SessionWithUser,
} from "../../sql/session-checks.ts";
import {
  findSessionAuthenticatedAt,
  insertSession,
  revokeSession,
  type Session,
} from "../../sql/sessions.ts";
import { batchedLookup } from "../db/batched-lookup.ts";
import { sessionsRevoked } from "../metrics.ts";
import { type CredentialCache, sessionKey } from "./credential-cache.ts";
import type { SessionTouches } from "./session-touches.ts";

// Sessions after the Copenhagen Book: the cookie carries 256 random bits; the
// database keeps only their SHA-256, so a leaked table opens no session.

export type { SessionWithUser };

export const sessionSecretBytes = 32;
const touchIntervalMs = 60_000;

/** A sign-in proved with two or more methods (its `amr`): a second factor was given. */
export function hasSecondFactor(amr: readonly string[]): boolean {
  return amr.length > 1;
}

export function newSessionSecret(): string {
  return randomBytes(sessionSecretBytes).toString("base64url");
}

export function hashSecret(secret: string): Buffer {
  return createHash("sha256").update(secret).digest();
}

/** A fresh session (a new id on every sign-in, so a planted one is never promoted). */
export async function createSession(
  db: CommonQueryMethods,
  input: {
    userId: string;
    ttlMs: number;
    idleTtlMs: number;
    ip: string | null;
    userAgent: string | null;
    amr?: readonly string[];
  },
): Promise<{ session: Session; secret: string }> {
  const secret = newSessionSecret();
  const session = await insertSession(db, {
    tokenHash: hashSecret(secret),
    userId: input.userId,
    expiresAt: new Date(Date.now() + input.ttlMs),
    idleTimeoutSeconds: Math.ceil(input.idleTtlMs / 1000),
    ip: input.ip,
    userAgent: input.userAgent,
    amr: input.amr,
  });
  // Counted by the caller once its transaction commits (completeSignIn).
  return { session, secret };
}

/**
 * The session check's read: the unrevoked session whose token hash is
 * `digest` (`key`: the same in base64), with its user. Checks made at the
 * same moment go to PostgreSQL as one statement (src/db/batched-lookup.ts),
 * so build one per pool and share it.
 */
export type SessionLookup = (hash: {
  digest: Buffer;
  key: string;
}) => Promise<SessionCheckRow | undefined>;

export function sessionLookup(db: CommonQueryMethods): SessionLookup {
  return batchedLookup(
    async (hashes: readonly { digest: Buffer; key: string }[]) => {
      const rows = await findUnrevokedSessionsWithUsers(
        db,
        hashes.map((hash) => hash.digest),
      );
      return new Map(rows.map(({ n, ...row }) => [hashes[n - 1]?.key as string, row]));
    },
    { keyOf: (hash) => hash.key },
  );
}

/**
 * The live session behind a cookie secret, with its user; null when unknown,
 * revoked, expired or idle. See checkSession.
 */
export async function validateSession(
  lookup: SessionLookup,
  secret: string,
  touches: Pick<SessionTouches, "touch">,
  cache?: CredentialCache,
): Promise<SessionWithUser | null> {
  const checked = await checkSession(lookup, secret, touches, cache);
  return checked === "expired" ? null : checked;
}

/**
 * The live session behind a cookie secret, with its user; "expired" when the
 * session is past its lifetime or idle timeout (and not revoked), so a
 * refusal can say so; null when unknown or revoked. A read (or a hit in
 * `cache`, see credential-cache.ts); last_seen_at is moved at most once a
 * minute, by `touches`, off the request path (session-touches.ts).
 */
export async function checkSession(
  lookup: SessionLookup,
  secret: string,
  touches: Pick<SessionTouches, "touch">,
  cache?: CredentialCache,
): Promise<SessionWithUser | "expired" | null> {
  // Anything that is not one of our secrets is rejected before the database.
  if (!/^[A-Za-z0-9_-]{43}$/.test(secret)) return null;
  const digest = hashSecret(secret);
  const hash = { digest, key: digest.toString("base64") };
  const key = cache ? sessionKey(hash.key) : "";
  const now = Date.now();
  let found = cache?.get<SessionWithUser>(key);
  if (found && !stillLive(found, now)) {
    // Expired or idle by the cached times; another replica may have moved
    // last_seen_at since, so the database decides.
    cache?.delete(key);
    found = undefined;
  }
  if (!found) {
    const generation = cache?.generation() ?? 0;
    const row = await lookup(hash);
    if (!row) return null;
    const { live, ...session } = row;
    if (!live) return "expired";
    found = session;
    cache?.set(key, found, [`s:${found.session_id}`, `u:${found.user_id}`], generation);
  }
  if (now - found.last_seen_at.getTime() > touchIntervalMs) {
    // The cached copy moves too, so each replica touches at most once a minute.
    found.last_seen_at = new Date(now);
    touches.touch(found.session_id);
  }
  return found;
}

function stillLive(session: SessionWithUser, now: number): boolean {
  return (
    session.expires_at.getTime() > now &&
    session.last_seen_at.getTime() + session.idle_timeout * 1000 > now
  );
}

export async function invalidateSession(
  db: CommonQueryMethods,
  id: string,
  reason: string,
): Promise<boolean> {
  const revoked = await revokeSession(db, id, reason);
  if (revoked) sessionsRevoked.inc({ reason });
  return revoked;
}

/**
 * Signs a session out (its own transaction) and forgets it in this replica's
 * credential cache at once: the caller's next request must not find it there
 * in the moment before PostgreSQL's notification arrives. Other replicas
 * drop it on that notification.
 */
export async function signOutSession(
  db: CommonQueryMethods,
  id: string,
  cache: CredentialCache | undefined,
): Promise<boolean> {
  const revoked = await invalidateSession(db, id, "logout");
  cache?.invalidate(`s:${id}`);
  return revoked;
}

/**
 * When the user of session `id` last proved who they are (its sign-in or a
 * later step-up): null when there is no such unrevoked session.
 */
export function sessionAuthenticatedAt(db: CommonQueryMethods, id: string): Promise<Date | null> {
  return findSessionAuthenticatedAt(db, id);
}
