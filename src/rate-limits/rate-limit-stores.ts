import { RedisClient } from "bun";
import type { CommonQueryMethods } from "slonik";
import { hitRateLimitCounter } from "../../sql/rate-limit-counters.ts";

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

// One connection per Redis URL for the whole process: Bun's client pipelines
// commands over it, and every app instance and login path shares it.
const redisClients = new Map<string, RedisClient>();

export function sharedRedisClient(url: string): RedisClient {
  let client = redisClients.get(url);
  if (!client) {
    client = new RedisClient(url, { connectionTimeout: 5000, enableOfflineQueue: true });
    redisClients.set(url, client);
  }
  return client;
}

/** Redis when REDIS_URL is set, else the PostgreSQL table. */
export function rateLimitStoreFor(
  config: { REDIS_URL?: string | undefined },
  db: CommonQueryMethods,
): RateLimitStore {
  return config.REDIS_URL
    ? redisRateLimitStore(sharedRedisClient(config.REDIS_URL))
    : postgresRateLimitStore(db);
}
