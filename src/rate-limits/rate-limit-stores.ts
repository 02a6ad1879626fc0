import { RedisClient } from "bun";
import type { CommonQueryMethods } from "slonik";
import { hitRateLimitCounter } from "../../sql/rate-limit-counters.ts";
import type { Logger } from "../logger.ts";

/** A counter store shared by every replica: one hit, one round trip. */
export type RateLimitStore = {
  /** Counts a hit on `key` in a fixed window; returns the hits so far and when the window ends. */
  hit(key: string, windowMs: number): Promise<{ hits: number; resetsAt: Date }>;
};

/** PostgreSQL (UNLOGGED table): one upsert per hit, see sql/rate-limit-counters.ts. */
export function postgresRateLimitStore(db: CommonQueryMethods): RateLimitStore {
  return {
    async hit(key, windowMs) {
      const row = await hitRateLimitCounter(db, key, windowMs);
      return { hits: row.hits, resetsAt: row.window_ends_at };
    },
  };
}

// INCR and the expiry of a new window in one atomic script: two separate
// commands could leave a counter without expiry if the second were lost.
const hitScript = `local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) ttl = tonumber(ARGV[1]) end
return {n, ttl}`;

export function redisRateLimitStore(client: RedisClient): RateLimitStore {
  return {
    async hit(key, windowMs) {
      const reply = (await client.send("EVAL", [
        hitScript,
        "1",
        `gatehouse:rl:${key}`,
        String(windowMs),
      ])) as [number, number];
      return { hits: Number(reply[0]), resetsAt: new Date(Date.now() + Number(reply[1])) };
    },
  };
}

// After a failure Redis is left alone this long: an outage costs a failed
// connection attempt per replica now and then, not a slow request each time.
const redisRetryMs = 5000;

/** One Redis connection and what it remembers of failures; close() ends it. */
type RedisConnection = {
  /** The hit counted in Redis; null while resting after a failure. */
  hit(key: string, windowMs: number): Promise<{ hits: number; resetsAt: Date } | null>;
  close(): void;
};

// One Redis connection per store, and createServices builds one store per
// process (Bun's client pipelines commands over it). While Redis cannot be
// reached the PostgreSQL counters stand in: an outage must neither lift the
// limits nor turn every sign-in into a 500. Bun's own reconnection waits
// through some twenty retries before a command fails, so it is off: a lost
// connection is dropped and a new one tried later.
function redisConnection(url: string): RedisConnection {
  let client: RedisClient | null = null;
  let ready: Promise<void> | null = null;
  let skipUntil = 0;
  return {
    async hit(key, windowMs) {
      if (Date.now() < skipUntil) return null;
      if (!client) {
        client = new RedisClient(url, {
          connectionTimeout: 1000,
          autoReconnect: false,
          enableOfflineQueue: false,
        });
        ready = client.connect();
      }
      const current = client;
      try {
        await ready;
        return await redisRateLimitStore(current).hit(key, windowMs);
      } catch (error) {
        if (client === current) {
          current.close();
          client = null;
          ready = null;
          skipUntil = Date.now() + redisRetryMs;
        }
        throw error;
      }
    },
    close() {
      client?.close();
      client = null;
      ready = null;
    },
  };
}

/**
 * Redis when REDIS_URL is set (PostgreSQL while Redis is down), else the
 * PostgreSQL table. Built once per process; close() ends the Redis connection.
 */
export function rateLimitStoreFor(
  config: { REDIS_URL?: string | undefined },
  db: CommonQueryMethods,
  logger: Logger,
): RateLimitStore & { close(): void } {
  const fallback = postgresRateLimitStore(db);
  if (!config.REDIS_URL) return { ...fallback, close() {} };
  const redis = redisConnection(config.REDIS_URL);
  return {
    async hit(key, windowMs) {
      try {
        const counted = await redis.hit(key, windowMs);
        if (counted) return counted;
      } catch (error) {
        logger.warn({ err: error }, "Redis unreachable: rate limits use PostgreSQL for now");
      }
      return fallback.hit(key, windowMs);
    },
    close: redis.close,
  };
}
