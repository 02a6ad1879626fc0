import pg from "pg";
import type { Logger } from "../logger.ts";
import { databaseConnection } from "./tls.ts";

// LISTEN needs one connection of its own for the life of the process, which
// a pool (slonik's included) does not lend: this is the raw driver's Client,
// reconnecting with backoff. It runs no query with rows, so no row parser.

const maxRetryDelayMs = 10_000;

export function listenForever({
  url,
  channel,
  logger,
  onListening,
  onLost,
  onNotification,
}: {
  url: string;
  channel: string;
  logger: Logger;
  /** LISTEN is in effect: notifications from now on will arrive. */
  onListening: () => void;
  /** The connection is gone: notifications may be missed until onListening again. */
  onLost: () => void;
  onNotification: (payload: string) => void;
}): { close: () => Promise<void> } {
  let closed = false;
  let client: pg.Client | null = null;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;

  const lost = (current: pg.Client, error?: unknown) => {
    if (client !== current) return; // already handled
    client = null;
    onLost();
    current.end().catch(() => {});
    if (closed) return;
    const delayMs = Math.min(maxRetryDelayMs, 250 * 2 ** failures++);
    logger.warn(
      { err: error, retryInMs: delayMs },
      "credential-cache listener lost its connection; cache bypassed until it listens again",
    );
    retryTimer = setTimeout(connect, delayMs);
  };

  const connect = async () => {
    const current = new pg.Client({
      ...databaseConnection(url),
      keepAlive: true,
      // How an operator tells it apart in pg_stat_activity.
      application_name: `gatehouse ${channel} listener`,
    });
    client = current;
    current.on("error", (error) => lost(current, error));
    current.on("end", () => lost(current));
    current.on("notification", (message) => {
      if (message.channel === channel && message.payload) onNotification(message.payload);
    });
    try {
      await current.connect();
      await current.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    } catch (error) {
      lost(current, error);
      return;
    }
    if (client !== current || closed) return;
    failures = 0;
    onListening();
  };

  void connect();
  return {
    close: async () => {
      closed = true;
      clearTimeout(retryTimer);
      const current = client;
      client = null;
      onLost();
      await current?.end().catch(() => {});
    },
  };
}
