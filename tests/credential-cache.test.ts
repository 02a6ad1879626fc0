import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "slonik";
import { heartbeatAllowanceMs, heartbeatIntervalMs } from "../src/db/listen.ts";
import { sessionCookieName } from "../src/http/session-cookie.ts";
import { bearerKey, createCredentialCache, sessionKey } from "../src/sessions/credential-cache.ts";
import { createSession, hashSecret } from "../src/sessions/sessions.ts";
import { startTestApp, type TestApp } from "./support/app.ts";
import { createTestDatabase, testLogger } from "./support/database.ts";
import { jsonSender } from "./support/requests.ts";
import { signedInUser } from "./support/sign-in.ts";
import { dropNotifications, startTcpProxy } from "./support/tcp-proxy.ts";

// Two replicas on one database, each with its own credential cache and its
// own LISTEN connection. The TTL is the longest allowed, so anything refused
// within the wait below was refused because of the notification, not expiry.

const db = await createTestDatabase();
const { pool } = db;
const cacheEnv = { AUTH_CACHE_TTL: "10s" };
/** Revocation must reach every replica within a second. */
const propagationBoundMs = 1000;

let first: TestApp;
let second: TestApp;

beforeAll(async () => {
  first = await startTestApp(pool, cacheEnv);
  second = await startTestApp(pool, cacheEnv);
});
afterAll(async () => {
  await Promise.all([first.close(), second.close()]);
  await db.drop();
});

const verify = (app: TestApp, headers: Record<string, string>) =>
  app.request("/auth/verify?mode=401", { headers });

async function signOut(app: TestApp, cookie: string) {
  const response = await app.request("/auth/logout", {
    method: "POST",
    headers: { cookie, origin: app.config.http.PUBLIC_URL },
  });
  expect(response.status).toBe(204);
}

/** Asks until the app holds the answer (its cache stores only once it hears its heartbeat). */
async function cachedIn(
  app: TestApp,
  headers: Record<string, string>,
  key: string,
  withinMs = 5000,
) {
  const deadline = performance.now() + withinMs;
  while (app.credentialCache?.get(key) === undefined) {
    if (performance.now() > deadline) throw new Error("the answer was never cached");
    expect((await verify(app, headers)).status).toBe(200);
  }
}

const cookieKey = (cookie: string) =>
  sessionKey(hashSecret(cookie.slice(cookie.indexOf("=") + 1)).toString("base64"));

/** The status once it settles on `expected`, asking every 10 ms up to the bound. */
async function statusWithin(
  app: TestApp,
  headers: Record<string, string>,
  expected: number,
  boundMs = propagationBoundMs,
): Promise<number> {
  const deadline = performance.now() + boundMs;
  for (;;) {
    const status = (await verify(app, headers)).status;
    if (status === expected || performance.now() > deadline) return status;
    await Bun.sleep(10);
  }
}

describe("credential cache across replicas", () => {
  test("a session cached by both replicas and signed out through one is refused by the other", async () => {
    const { cookie } = await signedInUser(pool, first.config, { isWhitelisted: true });
    await cachedIn(first, { cookie }, cookieKey(cookie));
    await cachedIn(second, { cookie }, cookieKey(cookie));

    await signOut(first, cookie);

    expect(await statusWithin(second, { cookie }, 401)).toBe(401);
    expect(await statusWithin(first, { cookie }, 401)).toBe(401);
  });

  test("a bearer token cached by both replicas is refused by the other once an admin deactivates its user through one", async () => {
    const admin = await signedInUser(pool, first.config, { role: "admin", isWhitelisted: true });
    const holder = await signedInUser(pool, first.config, { isWhitelisted: true });
    const issued = await first.request("/auth/token/session", {
      method: "POST",
      headers: { cookie: holder.cookie, origin: first.config.http.PUBLIC_URL },
    });
    expect(issued.status).toBe(200);
    const { access_token } = (await issued.json()) as { access_token: string };
    const bearer = { authorization: `Bearer ${access_token}` };
    await cachedIn(first, bearer, bearerKey(access_token));
    await cachedIn(second, bearer, bearerKey(access_token));

    const deactivated = await jsonSender(first)(
      "PATCH",
      `/admin/users/${holder.user.id}`,
      admin.cookie,
      {
        status: "inactive",
      },
    );
    expect(deactivated.status).toBe(200);

    expect(await statusWithin(second, bearer, 401)).toBe(401);
    expect(await statusWithin(first, bearer, 401)).toBe(401);
  });

  test("an approval withdrawn in the database turns a cached 200 into 403 on both replicas", async () => {
    const { user, cookie } = await signedInUser(pool, first.config, { isWhitelisted: true });
    await cachedIn(first, { cookie }, cookieKey(cookie));
    await cachedIn(second, { cookie }, cookieKey(cookie));

    // Straight SQL, as an operator at a console would: the trigger notifies all the same.
    await pool.query(sql.unsafe`UPDATE users SET is_whitelisted = false WHERE id = ${user.id}`);

    expect(await statusWithin(second, { cookie }, 403)).toBe(403);
    expect(await statusWithin(first, { cookie }, 403)).toBe(403);
  });

  test("a cached session still ends at its absolute expiry, with nothing notified", async () => {
    const { user } = await signedInUser(pool, first.config, { isWhitelisted: true });
    const ttlMs = 600;
    const { session, secret } = await createSession(pool, {
      userId: user.id,
      ttlMs,
      idleTtlMs: 60_000,
      ip: null,
      userAgent: null,
    });
    const cookie = `${sessionCookieName(second.config)}=${secret}`;
    await cachedIn(second, { cookie }, cookieKey(cookie));
    await Bun.sleep(Math.max(0, session.expires_at.getTime() - Date.now() + 20));
    expect((await verify(second, { cookie })).status).toBe(401);
  });

  test("a change made without a notification is seen once the TTL runs out, not before", async () => {
    const shortLived = await startTestApp(pool, { AUTH_CACHE_TTL: "300ms" });
    try {
      const { sessionId, cookie } = await signedInUser(pool, shortLived.config, {
        isWhitelisted: true,
      });
      await cachedIn(shortLived, { cookie }, cookieKey(cookie));
      // Triggers do not fire for a replica-role session (as during a restore).
      await pool.transaction(async (tx) => {
        await tx.query(sql.unsafe`SET LOCAL session_replication_role = replica`);
        await tx.query(sql.unsafe`UPDATE sessions SET revoked_at = now() WHERE id = ${sessionId}`);
      });
      expect((await verify(shortLived, { cookie })).status).toBe(200);
      await Bun.sleep(320);
      expect((await verify(shortLived, { cookie })).status).toBe(401);
    } finally {
      await shortLived.close();
    }
  });
});

describe("credential cache without its listening connection", () => {
  test("a replica that loses its listening connection drops its cache, reads the database, and caches again once it listens", async () => {
    const { sessionId, cookie } = await signedInUser(pool, first.config, { isWhitelisted: true });
    await cachedIn(first, { cookie }, cookieKey(cookie));

    await pool.query(sql.unsafe`
      SELECT pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE datname = current_database() AND application_name LIKE 'gatehouse % listener'`);
    const deadline = performance.now() + 5000;
    while (first.credentialCache?.get(cookieKey(cookie)) !== undefined) {
      if (performance.now() > deadline) throw new Error("the cache outlived its connection");
      await Bun.sleep(5);
    }
    // Revoked with triggers off, so no notification could tell anyone.
    await pool.transaction(async (tx) => {
      await tx.query(sql.unsafe`SET LOCAL session_replication_role = replica`);
      await tx.query(sql.unsafe`UPDATE sessions SET revoked_at = now() WHERE id = ${sessionId}`);
    });
    expect((await verify(first, { cookie })).status).toBe(401);

    const other = await signedInUser(pool, first.config, { isWhitelisted: true });
    await cachedIn(first, { cookie: other.cookie }, cookieKey(other.cookie));
  });
});

/** The database's address with another port: a proxy in front of it. */
function viaPort(port: number): string {
  const url = new URL(db.url);
  url.hostname = "127.0.0.1";
  url.port = String(port);
  return url.toString();
}

const target = new URL(db.url);
const proxyTarget = { host: target.hostname, port: Number(target.port) };
/** The longest a missed notification can go unnoticed while the cache keeps serving. */
const heartbeatWindowMs = heartbeatIntervalMs + heartbeatAllowanceMs;

/** Revoked with triggers off, so no notification could tell anyone. */
async function revokeQuietly(sessionId: string) {
  await pool.transaction(async (tx) => {
    await tx.query(sql.unsafe`SET LOCAL session_replication_role = replica`);
    await tx.query(sql.unsafe`UPDATE sessions SET revoked_at = now() WHERE id = ${sessionId}`);
  });
}

/** An app whose credential cache listens through a proxy the test can cut or black-hole. */
async function appListeningThroughProxy(options?: Parameters<typeof startTcpProxy>[1]) {
  const proxy = await startTcpProxy(proxyTarget, options);
  const app = await startTestApp(pool, cacheEnv, undefined, testLogger, {
    listenUrl: viaPort(proxy.port),
  });
  return { proxy, app };
}

describe("credential cache whose listener cannot be relied on", () => {
  test("a listener whose connection silently stops carrying anything drops the cache within the heartbeat window, so a session signed out meanwhile is refused", async () => {
    const { proxy, app } = await appListeningThroughProxy();
    try {
      const { cookie } = await signedInUser(pool, app.config, { isWhitelisted: true });
      await cachedIn(app, { cookie }, cookieKey(cookie));

      // Half-open: nothing arrives, nothing fails, nothing is closed.
      proxy.blackhole();
      await signOut(app, cookie);

      // The sign-out's notification never reaches this listener, and the TTL
      // (10 s) is far off: only the missing heartbeat echo can end the entry.
      const slackMs = 1000;
      expect(await statusWithin(app, { cookie }, 401, heartbeatWindowMs + slackMs)).toBe(401);
      expect(app.credentialCache?.get(cookieKey(cookie))).toBeUndefined();
    } finally {
      await app.close();
      proxy.close();
    }
  });

  test("a listener that went deaf opens a new connection and the cache serves again once it hears its heartbeat", async () => {
    const { proxy, app } = await appListeningThroughProxy();
    try {
      const { cookie } = await signedInUser(pool, app.config, { isWhitelisted: true });
      await cachedIn(app, { cookie }, cookieKey(cookie));
      proxy.blackhole();
      const deadline = performance.now() + heartbeatWindowMs + 1000;
      while (app.credentialCache?.get(cookieKey(cookie)) !== undefined) {
        if (performance.now() > deadline) throw new Error("the cache outlived its heartbeat");
        await Bun.sleep(20);
      }
      // New connections get through again; the deaf one stays deaf.
      proxy.unblackhole();
      await cachedIn(app, { cookie }, cookieKey(cookie), 20_000);
    } finally {
      await app.close();
      proxy.close();
    }
  }, 30_000);

  test("a sign-out is refused at once by the replica that took it, before PostgreSQL's notification arrives", async () => {
    let deaf = false;
    const proxy = await startTcpProxy(proxyTarget, {
      fromServer: () => dropNotifications(() => deaf),
    });
    const app = await startTestApp(pool, cacheEnv, undefined, testLogger, {
      listenUrl: viaPort(proxy.port),
    });
    try {
      const { cookie } = await signedInUser(pool, app.config, { isWhitelisted: true });
      await cachedIn(app, { cookie }, cookieKey(cookie));
      // From now on no notification reaches this replica; its cache stays
      // trusted until a heartbeat is missed, long after the next request.
      deaf = true;
      await signOut(app, cookie);
      expect((await verify(app, { cookie })).status).toBe(401);
    } finally {
      await app.close();
      proxy.close();
    }
  });

  test("a listener that LISTENs without error but never hears, as through a pooler in transaction mode, caches nothing", async () => {
    // Listeners of earlier tests may still be ending: only one started from now on counts.
    const since = await pool.oneFirst(sql.unsafe`SELECT clock_timestamp()::text`);
    const listening = async () =>
      Number(
        await pool.oneFirst(sql.unsafe`
          SELECT count(*)::int FROM pg_stat_activity
          WHERE datname = current_database() AND application_name LIKE 'gatehouse % listener'
            AND query LIKE 'LISTEN %' AND backend_start > ${String(since)}::timestamptz`),
      );
    const { proxy, app } = await appListeningThroughProxy({ fromServer: dropNotifications });
    try {
      const deadline = performance.now() + 5000;
      while ((await listening()) === 0) {
        if (performance.now() > deadline) throw new Error("the listener never listened");
        await Bun.sleep(10);
      }
      const { cookie } = await signedInUser(pool, app.config, { isWhitelisted: true });
      // Longer than a heartbeat round: the echo that would allow caching never comes.
      const until = performance.now() + heartbeatWindowMs;
      while (performance.now() < until) {
        expect((await verify(app, { cookie })).status).toBe(200);
        expect(app.credentialCache?.size).toBe(0);
        await Bun.sleep(50);
      }
      await signOut(app, cookie);
      expect((await verify(app, { cookie })).status).toBe(401);
    } finally {
      await app.close();
      proxy.close();
    }
  });

  test("with the listener unable to connect, nothing is cached and every check reads the database", async () => {
    const proxy = await startTcpProxy(proxyTarget);
    proxy.cut(); // its port now refuses connections
    const app = await startTestApp(pool, cacheEnv, undefined, testLogger, {
      listenUrl: viaPort(proxy.port),
    });
    try {
      const { sessionId, cookie } = await signedInUser(pool, app.config, { isWhitelisted: true });
      for (let i = 0; i < 5; i++) {
        expect((await verify(app, { cookie })).status).toBe(200);
        expect(app.credentialCache?.size).toBe(0);
      }
      await revokeQuietly(sessionId);
      expect((await verify(app, { cookie })).status).toBe(401);
    } finally {
      await app.close();
    }
  });
});

describe("credential cache bookkeeping", () => {
  test("nothing is stored before the listener hears its heartbeat, and everything is dropped when it is lost", () => {
    const cache = createCredentialCache(10_000);
    cache.set("k", 1, ["u:a"], cache.generation());
    expect(cache.get("k")).toBeUndefined();
    cache.trustUntil(Number.POSITIVE_INFINITY);
    cache.set("k", 1, ["u:a"], cache.generation());
    expect(cache.get<number>("k")).toBe(1);
    cache.distrust();
    expect(cache.get("k")).toBeUndefined();
    cache.set("k", 1, ["u:a"], cache.generation());
    expect(cache.get("k")).toBeUndefined();
  });

  test("with no echo to extend it, trust lapses: entries are dropped and nothing is stored", () => {
    let now = 0;
    const cache = createCredentialCache(10_000, { now: () => now });
    cache.trustUntil(3000);
    cache.set("k", 1, [], cache.generation());
    now = 2999;
    expect(cache.get<number>("k")).toBe(1);
    now = 3000;
    expect(cache.get("k")).toBeUndefined();
    cache.set("k", 1, [], cache.generation());
    expect(cache.size).toBe(0);
  });

  test("a read that began before trust lapsed and came back is not stored", () => {
    let now = 0;
    const cache = createCredentialCache(10_000, { now: () => now });
    cache.trustUntil(1000);
    const readStarted = cache.generation();
    now = 1500; // lapsed: a notification may have been missed meanwhile
    cache.trustUntil(4000);
    cache.set("k", 1, ["s:mine"], readStarted);
    expect(cache.get("k")).toBeUndefined();
  });

  test("a read that was in flight when a notification arrived is not stored", () => {
    const cache = createCredentialCache(10_000);
    cache.trustUntil(Number.POSITIVE_INFINITY);
    const readStarted = cache.generation();
    cache.invalidate("s:other"); // any notification: the read may predate the change
    cache.set("k", 1, ["s:mine"], readStarted);
    expect(cache.get("k")).toBeUndefined();
  });

  test("a notification drops every entry tagged with it and no other", () => {
    const cache = createCredentialCache(10_000);
    cache.trustUntil(Number.POSITIVE_INFINITY);
    cache.set("a", 1, ["u:1", "s:1"], cache.generation());
    cache.set("b", 2, ["u:1", "s:2"], cache.generation());
    cache.set("c", 3, ["u:2", "s:3"], cache.generation());
    cache.invalidate("u:1");
    expect(cache.get("a")).toBeUndefined();
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get<number>("c")).toBe(3);
    expect(cache.size).toBe(1);
  });

  test("the flush-all notification a restore sends drops every entry", () => {
    const cache = createCredentialCache(10_000);
    cache.trustUntil(Number.POSITIVE_INFINITY);
    cache.set("a", 1, ["u:1"], cache.generation());
    cache.set("b", 2, ["u:2"], cache.generation());
    cache.invalidate("*");
    expect(cache.size).toBe(0);
  });

  test("an entry is dropped once older than the TTL", () => {
    let now = 0;
    const cache = createCredentialCache(1000, { now: () => now });
    cache.trustUntil(Number.POSITIVE_INFINITY);
    cache.set("k", 1, [], cache.generation());
    now = 999;
    expect(cache.get<number>("k")).toBe(1);
    now = 1000;
    expect(cache.get("k")).toBeUndefined();
  });
});

describe("credential cache capacity", () => {
  test("when full, storing drops the oldest entry and keeps the size at the maximum", () => {
    const cache = createCredentialCache(10_000, { maxEntries: 2 });
    cache.trustUntil(Number.POSITIVE_INFINITY);
    cache.set("a", 1, ["s:a"], cache.generation());
    cache.set("b", 2, ["s:b"], cache.generation());
    cache.set("c", 3, ["s:c"], cache.generation());
    expect(cache.size).toBe(2);
    expect(cache.get("a")).toBeUndefined();
    expect(cache.get<number>("b")).toBe(2);
    expect(cache.get<number>("c")).toBe(3);
  });

  test("expired entries are dropped as new ones are stored, not kept until the cache is full", () => {
    let now = 0;
    const cache = createCredentialCache(1000, { maxEntries: 100, now: () => now });
    cache.trustUntil(Number.POSITIVE_INFINITY);
    for (let i = 0; i < 10; i++) cache.set(`old${i}`, i, [`s:old${i}`], cache.generation());
    now = 1000;
    cache.set("new", 1, ["s:new"], cache.generation());
    expect(cache.size).toBe(1);
  });

  test("an evicted entry's tags are forgotten: a later notification of them drops nothing else", () => {
    const cache = createCredentialCache(10_000, { maxEntries: 1 });
    cache.trustUntil(Number.POSITIVE_INFINITY);
    cache.set("a", 1, ["u:shared"], cache.generation());
    cache.set("b", 2, ["u:other"], cache.generation());
    cache.invalidate("u:shared");
    expect(cache.get<number>("b")).toBe(2);
  });
});
