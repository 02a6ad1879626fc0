import type { CommonQueryMethods } from "slonik";
import { touchSessions } from "../../sql/session-checks.ts";
import type { Logger } from "../logger.ts";

// A session check writes nothing on the request path: the sessions it saw
// are collected here and their last_seen_at moved in one statement a second
// per replica. A crash loses at most that second of "last seen", which only
// lengthens an idle timeout by as much.

export type SessionTouches = {
  /** Remember that this session was used now. */
  touch(sessionId: string): void;
  /** Writes what was collected (also called by the timer). */
  flush(): Promise<void>;
  /** Stops the timer after a last flush. */
  close(): Promise<void>;
};

export function startSessionTouches(
  db: CommonQueryMethods,
  logger: Logger,
  { intervalMs = 1000 }: { intervalMs?: number } = {},
): SessionTouches {
  let pending = new Map<string, Date>();
  let flushing: Promise<void> = Promise.resolve();
  const flush = () => {
    if (pending.size === 0) return flushing;
    const batch = pending;
    pending = new Map();
    flushing = flushing
      .then(() => touchSessions(db, batch))
      .catch((error: unknown) => {
        logger.warn({ err: error, sessions: batch.size }, "could not record session activity");
      });
    return flushing;
  };
  const timer = setInterval(() => void flush(), intervalMs);
  timer.unref();
  return {
    touch: (sessionId) => {
      pending.set(sessionId, new Date());
    },
    flush,
    close: async () => {
      clearInterval(timer);
      await flush();
    },
  };
}
