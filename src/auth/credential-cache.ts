import { listenForever } from "../db/listen.ts";
import type { Logger } from "../logger.ts";

// Validated sessions (by the SHA-256 of their secret) and bearer-token checks
// (by the token) are kept in memory for at most `ttlMs`, so the hot paths
// (forward-auth, GET /me) skip the database read. Safe because:
//
// - every change that could turn a "yes" into a "no" (revocation, sign-out,
//   deactivation, lock, deletion, role or approval change, password reset,
//   a deny-listed jti) notifies every replica from a trigger in the same
//   transaction (migrations/*_notify-credential-changes.sql); an entry is
//   tagged with the session, user and jti it depends on and dropped when
//   one of them is named;
// - an entry is only ever stored when no notification arrived while its
//   database read was in flight (the read could predate the change);
// - while the listening connection is down, the cache is emptied and
//   bypassed until it listens again (notifications sent meanwhile are lost);
// - whatever happens to notifications, no entry outlives `ttlMs`: that is the
//   documented staleness bound;
// - only positive answers are cached: a refusal always comes from the
//   database, and an entry that fails a check (expiry, idle timeout) is
//   dropped and the database asked again.

export const credentialsChannel = "gatehouse_credentials";

/** The entry of a session, by the SHA-256 of its secret. */
export const sessionKey = (tokenHash: Buffer) => `c:${tokenHash.toString("base64")}`;
/** The entry of a bearer check, by the whole token (its signature included). */
export const bearerKey = (token: string) => `b:${token}`;
/** Entries live a second by default, so this is ten thousand callers a second per replica. */
const maxEntries = 10_000;

type Entry = { value: unknown; storedAt: number; tags: readonly string[] };

export type CredentialCache = {
  /** A live entry, or undefined; an entry older than the TTL is dropped. */
  get: <T>(key: string) => T | undefined;
  /** Pass to `set`: the state of invalidations before a database read began. */
  generation: () => number;
  /** Stores unless invalidated (or not listening) since `generation` was read. */
  set: (key: string, value: unknown, tags: readonly string[], generation: number) => void;
  delete: (key: string) => void;
  /** Drops every entry tagged `tag` (s:<session>, u:<user>, j:<jti>). */
  invalidate: (tag: string) => void;
  /** Drops everything; stored again only once `setListening(true)`. */
  setListening: (listening: boolean) => void;
  readonly size: number;
};

export function createCredentialCache(ttlMs: number, now = () => performance.now()) {
  const entries = new Map<string, Entry>();
  const byTag = new Map<string, Set<string>>();
  let generation = 0;
  let listening = false;

  const remove = (key: string) => {
    const entry = entries.get(key);
    if (!entry) return;
    entries.delete(key);
    for (const tag of entry.tags) {
      const keys = byTag.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) byTag.delete(tag);
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
      if (!entry) return undefined;
      if (now() - entry.storedAt >= ttlMs) {
        remove(key);
        return undefined;
      }
      return entry.value as T;
    },
    generation: () => generation,
    set: (key, value, tags, readAt) => {
      if (!listening || readAt !== generation) return;
      remove(key);
      // The oldest entry goes first (Map keeps insertion order).
      if (entries.size >= maxEntries) remove(entries.keys().next().value as string);
      entries.set(key, { value, storedAt: now(), tags });
      for (const tag of tags) {
        const keys = byTag.get(tag);
        if (keys) keys.add(key);
        else byTag.set(tag, new Set([key]));
      }
    },
    delete: remove,
    invalidate: (tag) => {
      generation++;
      const keys = byTag.get(tag);
      if (!keys) return;
      for (const key of [...keys]) remove(key);
    },
    setListening: (value) => {
      listening = value;
      clear();
    },
    get size() {
      return entries.size;
    },
  };
  return cache;
}

/**
 * A cache fed by its own LISTEN connection to `url`; `close` ends it. The
 * cache is bypassed (empty) until the first LISTEN succeeds.
 */
export function startCredentialCache({
  url,
  ttlMs,
  logger,
}: {
  url: string;
  ttlMs: number;
  logger: Logger;
}): { cache: CredentialCache; close: () => Promise<void> } {
  const cache = createCredentialCache(ttlMs);
  const listener = listenForever({
    url,
    channel: credentialsChannel,
    logger,
    onListening: () => cache.setListening(true),
    onLost: () => cache.setListening(false),
    onNotification: (payload) => cache.invalidate(payload),
  });
  return { cache, close: listener.close };
}
