import { afterAll, describe, expect, test } from "bun:test";
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "slonik";
import { parseConfig } from "../src/config/index.ts";
import { openDatabase } from "../src/db/open-database.ts";
import { createTestDatabase, testLogger } from "./support/database.ts";
import { readLog, startServer, waitForListening } from "./support/server-process.ts";
import { proxyDatabase } from "./support/tcp-proxy.ts";

const db = await createTestDatabase();
afterAll(() => db.drop());

/** The test database behind a proxy that is cut: down until `proxy.restore()`. */
async function databaseBehindCutProxy() {
  const proxied = await proxyDatabase(db.url);
  proxied.proxy.cut();
  return proxied;
}

describe("the server process", () => {
  test("a bad setting stops it with one line naming the variable and a non-zero exit", async () => {
    const child = startServer({ PORT: "abc" });
    const [code, stderr, stdout] = await Promise.all([
      child.exited,
      new Response(child.stderr).text(),
      new Response(child.stdout).text(),
    ]);
    expect(code).not.toBe(0);
    expect(stderr.trim().split("\n")).toEqual([
      "gatehouse: invalid configuration: PORT: expected an integer",
    ]);
    expect(stdout).toBe("");
  });

  const urlFormat =
    "expected a postgres:// URL with a host, like postgres://user:password@host:5432/database";
  test.each([
    ["DATABASE_URL=postgres://", { DATABASE_URL: "postgres://" }, `DATABASE_URL: ${urlFormat}`],
    [
      "a port out of range",
      { DATABASE_URL: "postgres://db:99999/x" },
      `DATABASE_URL: ${urlFormat}`,
    ],
    [
      "SMTP_URL=nope",
      { SMTP_URL: "nope" },
      "SMTP_URL: expected a URL like smtp://user:password@mail.example.com:587",
    ],
    [
      "REDIS_URL without a scheme",
      { REDIS_URL: "localhost:6379" },
      "REDIS_URL: expected a URL like redis://redis.internal:6379",
    ],
    ["DEV_OUTBOX=sometimes", { DEV_OUTBOX: "sometimes" }, "DEV_OUTBOX: expected true or false"],
    [
      "production without JWT_SIGNING_KEYS",
      { NODE_ENV: "production" },
      "JWT_SIGNING_KEYS: required in production (an Ed25519 or P-256 key)",
    ],
    [
      "production without TOKEN_ENCRYPTION_KEYS, even with no sign-in provider",
      {
        NODE_ENV: "production",
        JWT_SIGNING_KEYS: JSON.stringify({
          ...generateKeyPairSync("ed25519").privateKey.export({ format: "jwk" }),
          kid: "production-test",
        }),
      },
      "TOKEN_ENCRYPTION_KEYS: required in production (kid:base64 of 32 random bytes); provider tokens, authenticator-app secrets and webhook secrets are sealed with it",
    ],
  ])(
    "%s is refused in one line with exit code 2 before the database is touched",
    async (_name, env, message) => {
      // A stand-in database that only counts who connects to it.
      let connections = 0;
      const listener = Bun.listen({
        hostname: "127.0.0.1",
        port: 0,
        socket: {
          open(socket) {
            connections++;
            socket.end();
          },
          data() {},
        },
      });
      try {
        const child = startServer({
          DATABASE_URL: `postgres://gatehouse:secret@127.0.0.1:${listener.port}/gatehouse`,
          DB_MAX_RETRIES: "0",
          PORT: "0",
          ...env,
        });
        const [code, stderr, stdout] = await Promise.all([
          child.exited,
          new Response(child.stderr).text(),
          new Response(child.stdout).text(),
        ]);
        expect(stderr.trim().split("\n")).toEqual([`gatehouse: invalid configuration: ${message}`]);
        expect(stdout).toBe("");
        expect(code).toBe(2);
        expect(connections).toBe(0);
      } finally {
        listener.stop(true);
      }
    },
  );

  test("a database that comes up seconds after the server is waited for with growing delays", async () => {
    const { proxy, url: late } = await databaseBehindCutProxy();
    const child = startServer({
      DATABASE_URL: late,
      DB_MAX_RETRIES: "5",
      DB_RETRY_DELAY_MS: "200",
      PORT: "0",
      HOST: "127.0.0.1",
    });
    const log = readLog(child.stdout);
    let opening: Promise<void> = Promise.resolve();
    try {
      await log.until((l) => l.msg === "database not reachable yet");
      // The database comes up 3 s after the server first failed to reach it.
      const firstFailure = Date.now();
      opening = Bun.sleep(3000).then(() => proxy.restore());
      const listening = await log.until((l) => l.msg === "listening");
      expect(Date.now() - firstFailure).toBeGreaterThanOrEqual(3000);
      const retries = log.lines.filter((l) => l.msg === "database not reachable yet");
      // 200, 400, 800, 1600 ms: the fourth wait is the one the database comes up in.
      expect(retries.length).toBeGreaterThanOrEqual(3);
      expect(retries.map((l) => l.retryInMs)).toEqual(
        [200, 400, 800, 1600].slice(0, retries.length),
      );
      const port = new URL(listening.url ?? "").port;
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    } finally {
      await opening;
      child.kill("SIGTERM");
      await child.exited;
      proxy.close();
    }
  });

  test("a database that never comes up is given up on after DB_MAX_RETRIES, exit code 1", async () => {
    const { proxy, url: down } = await databaseBehindCutProxy();
    const started = Date.now();
    const child = startServer({
      DATABASE_URL: down,
      DB_MAX_RETRIES: "2",
      DB_RETRY_DELAY_MS: "300",
      PORT: "0",
    });
    const [code, stdout] = await Promise.all([child.exited, new Response(child.stdout).text()]);
    proxy.close();
    const lines = stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { msg: string });
    expect(lines.filter((l) => l.msg === "database not reachable yet")).toHaveLength(2);
    expect(lines.at(-1)?.msg).toBe("cannot reach the database; giving up");
    expect(Date.now() - started).toBeGreaterThanOrEqual(300 + 600);
    expect(code).toBe(1);
  });

  test("SIGTERM while start-up waits for the database stops the process at once, exit 0", async () => {
    const { proxy, url: down } = await databaseBehindCutProxy();
    const child = startServer({
      DATABASE_URL: down,
      DB_MAX_RETRIES: "10",
      DB_RETRY_DELAY_MS: "5000",
      PORT: "0",
    });
    try {
      await readLog(child.stdout).until((l) => l.msg === "database not reachable yet");
      const signalled = Date.now();
      child.kill("SIGTERM");
      expect(await child.exited).toBe(0);
      expect(Date.now() - signalled).toBeLessThan(3000);
    } finally {
      proxy.close();
    }
  });

  test("SIGTERM lets in-flight requests finish, then exits 0", async () => {
    const child = startServer({
      DATABASE_URL: db.url,
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "info",
    });
    const port = await waitForListening(child.stdout);

    // Requests whose bodies trickle in over ~600 ms are still in flight when SIGTERM lands.
    const slowRequest = () =>
      fetch(`http://127.0.0.1:${port}/healthz`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        duplex: "half",
        body: new ReadableStream({
          async start(controller) {
            for (let i = 0; i < 6; i++) {
              controller.enqueue(new TextEncoder().encode(" "));
              await Bun.sleep(100);
            }
            controller.close();
          },
        }),
      });
    const inFlight = Array.from({ length: 10 }, slowRequest);
    await Bun.sleep(200);
    child.kill("SIGTERM");

    const responses = await Promise.all(inFlight);
    // Each was answered by the app (a 404 problem: POST /healthz has no handler), none was dropped.
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(404));
    expect(await child.exited).toBe(0);
  });
});

describe("the embedded database", () => {
  const dataDir = mkdtemp(join(tmpdir(), "gatehouse-embedded-"));
  afterAll(async () => rm(await dataDir, { recursive: true, force: true }));

  test("with no DATABASE_URL a PostgreSQL is started under DATA_DIR, and a second process reuses it", async () => {
    const config = parseConfig({ DATA_DIR: await dataDir, NODE_ENV: "test" });
    const first = await openDatabase(config, testLogger);
    try {
      expect(first.embedded).toBe(true);
      expect(new URL(first.url).hostname).toBe("127.0.0.1");
      const second = await openDatabase(config, testLogger);
      expect(second.url).toBe(first.url);
      expect(await second.pool.oneFirst(sql.unsafe`SELECT 1`)).toBe(1);
      await second.close();
      // The reusing side did not stop the server it found.
      expect(await first.pool.oneFirst(sql.unsafe`SELECT 1`)).toBe(1);
    } finally {
      await first.close();
    }
  });
});
