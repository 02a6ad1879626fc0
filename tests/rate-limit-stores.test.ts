import { afterAll, describe, expect, test } from "bun:test";
import { RedisClient } from "bun";
import { sql } from "slonik";
import { insertUser } from "../sql/users.ts";
import { freePort } from "../src/free-port.ts";
import { hashPassword } from "../src/password/hashing.ts";
import {
  postgresRateLimitStore,
  type RateLimitStore,
  redisRateLimitStore,
} from "../src/rate-limits/rate-limit-stores.ts";
import { startTestApp } from "./support/app.ts";
import { cleanupNow } from "./support/cleanup.ts";
import { createTestDatabase } from "./support/database.ts";

// Both counter stores must behave alike. The Redis half runs when a server
// answers on REDIS_TEST_URL (default redis://127.0.0.1:6379), as in CI, and
// skips itself on a machine without one.

const { pool, drop } = await createTestDatabase();
const redisUrl = process.env.REDIS_TEST_URL ?? "redis://127.0.0.1:6379";

async function reachableRedis(): Promise<RedisClient | null> {
  const client = new RedisClient(redisUrl, { connectionTimeout: 500, autoReconnect: false });
  try {
    const pong = await Promise.race([
      client.connect().then(() => client.send("PING", [])),
      Bun.sleep(1000).then(() => null),
    ]);
    if (pong === "PONG") return client;
  } catch {
    // nothing answers: the Redis tests skip
  }
  client.close();
  return null;
}

const redis = await reachableRedis();
afterAll(async () => {
  redis?.close();
  await drop();
});

const stores: [string, RateLimitStore | null][] = [
  ["PostgreSQL", postgresRateLimitStore(pool)],
  ["Redis", redis ? redisRateLimitStore(redis) : null],
];

for (const [name, store] of stores) {
  describe.skipIf(store === null)(`${name} rate-limit counters`, () => {
    const key = () => `test:${crypto.randomUUID()}`;

    test("hits are counted in a window that says when it ends", async () => {
      const k = key();
      const first = await store?.hit(k, 60_000);
      const second = await store?.hit(k, 60_000);
      expect([first?.hits, second?.hits]).toEqual([1, 2]);
      const left = (second?.resetsAt.getTime() ?? 0) - Date.now();
      expect(left).toBeGreaterThan(55_000);
      expect(left).toBeLessThanOrEqual(60_500);
    });

    test("concurrent hits are all counted, once each", async () => {
      const k = key();
      const results = await Promise.all(Array.from({ length: 40 }, () => store?.hit(k, 60_000)));
      expect(results.map((r) => r?.hits).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(
        Array.from({ length: 40 }, (_, i) => i + 1),
      );
    });

    test("a new window starts when the old one ends", async () => {
      const k = key();
      await store?.hit(k, 300);
      await store?.hit(k, 300);
      await Bun.sleep(400);
      expect((await store?.hit(k, 300))?.hits).toBe(1);
    });
  });
}

describe.skipIf(redis === null)("rate limits with REDIS_URL", () => {
  test("two app instances share the Redis counters", async () => {
    const env = { TRUST_PROXY_HOPS: "1", REDIS_URL: redisUrl, RATE_LIMIT_LOGIN_ACCOUNT: "50/5m" };
    const [one, two] = [await startTestApp(pool, env), await startTestApp(pool, env)];
    try {
      const user = await insertUser(pool, {
        email: `redis-${crypto.randomUUID()}@example.com`,
        emailVerified: true,
        passwordHash: await hashPassword("correct horse battery staple", one.config.passwords),
      });
      // A fresh address per run: Redis keeps counters between test runs.
      const ip = `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
      const answers = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          (i % 2 ? two : one).request("/auth/login", {
            method: "POST",
            headers: { "content-type": "application/json", "x-forwarded-for": ip },
            body: JSON.stringify({ email: user.email, password: "wrong password" }),
          }),
        ),
      );
      expect(answers.filter((a) => a.status === 429)).toHaveLength(10);
      // Nothing went to the PostgreSQL table for this client.
      const counters = await pool.oneFirst(sql.unsafe`
        SELECT count(*)::int FROM rate_limit_counters WHERE key LIKE ${`%${ip}%`}`);
      expect(counters).toBe(0);
    } finally {
      await one.close();
      await two.close();
    }
  });
});

test("cleanup removes PostgreSQL counters whose window has ended, and only those", async () => {
  const store = postgresRateLimitStore(pool);
  const [ended, live] = [`test:${crypto.randomUUID()}`, `test:${crypto.randomUUID()}`];
  await store.hit(ended, 100);
  await store.hit(live, 60_000);
  await Bun.sleep(150);
  const report = await cleanupNow(pool);
  expect(report.ran && report.removed.rate_limit_counters).toBeGreaterThanOrEqual(1);
  const keys = await pool.anyFirst(sql.unsafe`
    SELECT key FROM rate_limit_counters WHERE key IN (${ended}, ${live})`);
  expect(keys).toEqual([live]);
});

test("while Redis cannot be reached the PostgreSQL counters stand in (no 500s, limits hold)", async () => {
  const port = await freePort();
  const down = await startTestApp(pool, {
    TRUST_PROXY_HOPS: "1",
    REDIS_URL: `redis://127.0.0.1:${port}`,
    RATE_LIMIT_LOGIN_IP: "3/5m",
  });
  try {
    const ip = "192.0.2.77";
    const statuses = [];
    for (let i = 0; i < 5; i++) {
      const answer = await down.request("/auth/login", {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": ip },
        body: JSON.stringify({ email: `nobody${i}@example.com`, password: "wrong password" }),
      });
      statuses.push(answer.status);
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    const counted = await pool.oneFirst(sql.unsafe`
      SELECT hits FROM rate_limit_counters WHERE key = ${`login_ip:${ip}`}`);
    expect(counted).toBe(5);
  } finally {
    await down.close();
  }
});
