import { createHash } from "node:crypto";
import type { CommonQueryMethods } from "slonik";
import {
  credentialsChannel,
  flushAllCredentials,
  notifyCredentialListeners,
} from "../../sql/credential-notifications.ts";
import { listenForever } from "../db/listen.ts";
import type { Logger } from "../logger.ts";
import { credentialCacheListening, credentialCacheLookups } from "../metrics.ts";

// The one cache of credential checks: validated sessions (cookie) and bearer
// checks, each by the SHA-256 of the credential, and GET /me's view of a
// user, are kept in memory for at most `ttlMs`, so the hot paths
// (forward-auth, GET /me) skip the database read. Safe because:
//
// - every change that could turn a "yes" into a "no" (revocation, sign-out,
//   deactivation, lock, deletion, role or approval change, password reset,
//   a deny-listed jti) notifies every replica from a trigger in the same
//   transaction (migrations/*_notify-credential-changes.sql); an entry is
//   tagged with the session, user and jti it depends on and dropped when
//   one of them is named; a restore, which runs with triggers off, notifies
//   "*", which drops everything;
// - the cache serves and stores only while its listener has recently heard
//   its own heartbeat (src/db/listen.ts): a listener that is not connected,
//   or connected but deaf (half-open TCP, a pooler in transaction mode), lets
//   that trust lapse within heartbeat interval + allowance, and the cache is
//   emptied and bypassed until an echo is heard again;
// - an entry is only ever stored when no notification arrived (and trust did
//   not lapse) while its database read was in flight (the read could predate
//   the change);
// - whatever happens to notifications, no entry outlives `ttlMs`;
// - only positive answers are cached: a refusal always comes from the
//   database, and an entry that fails a check (expiry, idle timeout) is
//   dropped and the database asked again.

/** The entry of a session, by the SHA-256 of its secret (base64). */
export const sessionKey = (tokenHash: string) => `c:${tokenHash}`;
/** The entry of a bearer check, by the SHA-256 of the whole token (its signature included). */
export const bearerKey = (token: string) =>
  `b:${createHash("sha256").update(token).digest("base64")}`;
type Entry = { value: unknown; storedAt: number; tags: readonly string[] };

export type CredentialCache = {
  /** A live entry, or undefined; an entry older than the TTL is dropped. */
  get: <T>(key: string) => T | undefined;
  /** Pass to `set`: the state of invalidations before a database read began. */
  generation: () => number;
  /** Stores unless invalidated (or not trusted) since `generation` was read. */
  set: (key: string, value: unknown, tags: readonly string[], generation: number) => void;
  delete: (key: string) => void;
  /** Drops every entry tagged `tag` (s:<session>, u:<user>, j:<jti>); "*" drops all. */
  invalidate: (tag: string) => void;
  /**
   * The listener heard every notification until a moment ago: serve and
   * store until `until` (the clock given to createCredentialCache).
   */
  trustUntil: (until: number) => void;
  /** Drops everything; nothing is served or stored until `trustUntil` again. */
  distrust: () => void;
  readonly size: number;
};

/**
 * At most `maxEntries` live entries (AUTH_CACHE_MAX_ENTRIES): when full, the
 * oldest goes first. Entries are kept in the order they were stored, so the
 * expired ones are at the front.
 */
export function createCredentialCache(
  ttlMs: number,
  { maxEntries = 50_000, now = () => performance.now() } = {},
) {
  const entries = new Map<string, Entry>();
  // Nearly every tag names one entry (a session, a jti; a user with one
  // device), so a tag maps to its key itself and only grows a Set for more.
  const byTag = new Map<string, string | Set<string>>();
  let generation = 0;
  /** Nothing is trusted before the listener's first echo. */
  let trustedUntil = Number.NEGATIVE_INFINITY;

  const remove = (key: string) => {
    const entry = entries.get(key);
    if (!entry) return;
    entries.delete(key);
    for (const tag of entry.tags) {
      const keys = byTag.get(tag);
      if (keys === key) byTag.delete(tag);
      else if (typeof keys === "object") {
        keys.delete(key);
        if (keys.size === 0) byTag.delete(tag);
      }
    }
  };
  const makeRoom = (at: number) => {
    for (const [key, entry] of entries) {
      if (entries.size < maxEntries && at - entry.storedAt < ttlMs) return;
      remove(key);
    }
  };
  const clear = () => {
    generation++;
    entries.clear();
    byTag.clear();
  };

  const cache: CredentialCache = {
    get: <T>(key: string) => {
      const entry = entries.get(key);
      if (!entry) {
        credentialCacheLookups.miss++;
        return undefined;
      }
      const at = now();
      if (at >= trustedUntil) {
        // The listener has not been heard from in time: notifications may be lost.
        clear();
        credentialCacheLookups.miss++;
        return undefined;
      }
      if (at - entry.storedAt >= ttlMs) {
        remove(key);
        credentialCacheLookups.miss++;
        return undefined;
      }
      credentialCacheLookups.hit++;
      return entry.value as T;
    },
    generation: () => generation,
    set: (key, value, tags, readAt) => {
      if (readAt !== generation) return;
      const at = now();
      if (at >= trustedUntil) return;
      remove(key);
      makeRoom(at);
      entries.set(key, { value, storedAt: at, tags });
      for (const tag of tags) {
        const keys = byTag.get(tag);
        if (keys === undefined) byTag.set(tag, key);
        else if (typeof keys === "object") keys.add(key);
        else if (keys !== key) byTag.set(tag, new Set([keys, key]));
      }
    },
    delete: remove,
    invalidate: (tag) => {
      if (tag === flushAllCredentials) {
        clear();
        return;
      }
      generation++;
      const keys = byTag.get(tag);
      if (typeof keys === "string") remove(keys);
      else if (keys) for (const key of [...keys]) remove(key);
    },
    trustUntil: (until) => {
      // Coming back from a lapse: a read that began while notifications
      // could be missed must not be stored now.
      if (now() >= trustedUntil) clear();
      trustedUntil = Math.max(trustedUntil, until);
    },
    distrust: () => {
      trustedUntil = Number.NEGATIVE_INFINITY;
      clear();
    },
    get size() {
      return entries.size;
    },
  };
  return cache;
}

/**
 * A cache fed by its own LISTEN connection to `url`, whose heartbeats go
 * through `pool`; `close` ends it. The cache is bypassed (empty) until the
 * listener first hears its own heartbeat.
 */
export function startCredentialCache({
  url,
  pool,
  ttlMs,
  maxEntries,
  logger,
}: {
  url: string;
  pool: CommonQueryMethods;
  ttlMs: number;
  maxEntries: number;
  logger: Logger;
}): { cache: CredentialCache; close: () => Promise<void> } {
  const cache = createCredentialCache(ttlMs, { maxEntries });
  const listener = listenForever({
    url,
    channel: credentialsChannel,
    logger,
    sendHeartbeat: (payload) => notifyCredentialListeners(pool, payload),
    onHearing: (until) => {
      cache.trustUntil(until);
      credentialCacheListening.set(1);
    },
    onLost: () => {
      cache.distrust();
      credentialCacheListening.set(0);
    },
    onNotification: (payload) => cache.invalidate(payload),
  });
  return { cache, close: listener.close };
}
