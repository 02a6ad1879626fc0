import { randomBytes } from "node:crypto";
import pg from "pg";
import type { Logger } from "../logger.ts";
import { databaseConnection } from "./tls.ts";

// LISTEN needs one connection of its own for the life of the process, which
// a pool (slonik's included) does not lend: this is the raw driver's Client,
// reconnecting with backoff. It runs no query with rows, so no row parser.
//
// A listening connection can go deaf without failing: a half-open TCP
// connection (a NAT or firewall dropped it; the OS keep-alive notices after
// hours), a pooler in transaction mode that hands the listening backend to
// other clients, a backend killed behind a proxy. So the listener proves it
// still hears: every `heartbeatIntervalMs` it notifies itself on its channel,
// sent through another connection as any change is. PostgreSQL delivers a
// channel's notifications in commit order, so the echo of a heartbeat sent
// at t proves every notification committed before t has arrived; `onHearing`
// then extends trust to t + interval + allowance. With no newer echo by
// then the trust lapses by itself (the caller stops relying on LISTEN), and
// a heartbeat committed but still unheard after `deadAfterMs` ends the
// connection, which is then opened anew.

/** How often the listener notifies itself. */
export const heartbeatIntervalMs = 1_000;
/**
 * How late an echo may be: a pool queue, a commit, delivery, a busy event
 * loop. Twice the interval, so that ordinary latency never switches the
 * cache off; interval + allowance bounds a missed notification's effect.
 */
export const heartbeatAllowanceMs = 2_000;
/** A committed heartbeat unheard for this long: the connection is deaf. */
const deadAfterMs = 5_000;
const maxRetryDelayMs = 10_000;
/** Connecting and LISTEN: a black-holed network must not hang the listener. */
const connectTimeoutMs = 10_000;
/** Heartbeats whose sending is still in flight: beyond this, skip a beat. */
const maxOutstanding = 8;

type Heartbeat = { sentAt: number; committedAt: number | null };

export function listenForever({
  url,
  channel,
  logger,
  sendHeartbeat,
  onHearing,
  onLost,
  onNotification,
}: {
  url: string;
  channel: string;
  logger: Logger;
  /** NOTIFY `channel` with this payload through some other connection; resolves at commit. */
  sendHeartbeat: (payload: string) => Promise<void>;
  /**
   * Every notification committed until a moment ago has arrived: LISTEN may
   * be relied on until `until` (a performance.now() time), unless a later
   * call moves it on.
   */
  onHearing: (until: number) => void;
  /** The connection is gone: notifications may be missed until onHearing again. */
  onLost: () => void;
  /** Any payload but heartbeats (h:…), which are handled here. */
  onNotification: (payload: string) => void;
}): { close: () => Promise<void> } {
  // Tells this listener's heartbeats apart from every other replica's.
  const heartbeatPrefix = `h:${randomBytes(9).toString("base64url")}:`;
  let closed = false;
  let client: pg.Client | null = null;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  let failures = 0;
  let sequence = 0;
  /** Heartbeats of the current connection not heard yet, by sequence number. */
  const outstanding = new Map<number, Heartbeat>();

  const lost = (current: pg.Client, error?: unknown) => {
    if (client !== current) return; // already handled
    client = null;
    clearInterval(heartbeatTimer);
    outstanding.clear();
    onLost();
    // Destroyed, not ended: a half-open connection would never answer a goodbye.
    current.connection.stream.destroy();
    if (closed) return;
    const delayMs = Math.min(maxRetryDelayMs, 250 * 2 ** failures++);
    logger.warn(
      { err: error, retryInMs: delayMs },
      "credential-cache listener lost its connection; cache bypassed until it hears again",
    );
    retryTimer = setTimeout(connect, delayMs);
  };

  const beat = (current: pg.Client) => {
    if (client !== current) return;
    const now = performance.now();
    for (const heartbeat of outstanding.values()) {
      if (heartbeat.committedAt !== null && now - heartbeat.committedAt > deadAfterMs) {
        lost(current, new Error(`a heartbeat committed ${deadAfterMs} ms ago was never heard`));
        return;
      }
    }
    if (outstanding.size >= maxOutstanding) return;
    const seq = ++sequence;
    const heartbeat: Heartbeat = { sentAt: now, committedAt: null };
    outstanding.set(seq, heartbeat);
    sendHeartbeat(`${heartbeatPrefix}${seq}`).then(
      () => {
        heartbeat.committedAt = performance.now();
      },
      (error: unknown) => {
        // Nothing to hear from a heartbeat that was never sent.
        outstanding.delete(seq);
        logger.debug({ err: error }, "credential-cache heartbeat not sent");
      },
    );
  };

  const heard = (payload: string) => {
    const seq = Number(payload.slice(heartbeatPrefix.length));
    const heartbeat = outstanding.get(seq);
    if (!heartbeat) return;
    for (const earlier of outstanding.keys()) if (earlier <= seq) outstanding.delete(earlier);
    if (failures > 0) logger.info("credential-cache listener hears again; cache on");
    failures = 0;
    onHearing(heartbeat.sentAt + heartbeatIntervalMs + heartbeatAllowanceMs);
  };

  const connect = async () => {
    const current = new pg.Client({
      ...databaseConnection(url),
      keepAlive: true,
      connectionTimeoutMillis: connectTimeoutMs,
      query_timeout: connectTimeoutMs,
      // How an operator tells it apart in pg_stat_activity.
      application_name: `gatehouse ${channel} listener`,
    });
    client = current;
    current.on("error", (error) => lost(current, error));
    current.on("end", () => lost(current));
    current.on("notification", ({ channel: from, payload }) => {
      if (client !== current || from !== channel || !payload) return;
      if (payload.startsWith(heartbeatPrefix)) heard(payload);
      else if (!payload.startsWith("h:")) onNotification(payload);
    });
    try {
      await current.connect();
      await current.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    } catch (error) {
      lost(current, error);
      return;
    }
    if (client !== current || closed) return;
    // Trusted from the first echo on, a moment from now.
    beat(current);
    heartbeatTimer = setInterval(() => beat(current), heartbeatIntervalMs);
  };

  void connect();
  return {
    close: async () => {
      closed = true;
      clearTimeout(retryTimer);
      clearInterval(heartbeatTimer);
      const current = client;
      client = null;
      onLost();
      if (!current) return;
      // A goodbye, unless the network swallows it.
      const unanswered = setTimeout(() => current.connection.stream.destroy(), 1_000);
      await current.end().catch(() => {});
      clearTimeout(unanswered);
    },
  };
}
