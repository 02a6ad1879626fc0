import { afterAll, expect, test } from "bun:test";
import { sql } from "slonik";
import { ConfigError, parseConfig } from "../src/config/index.ts";
import { createTestDatabase } from "./support/database.ts";

// DATABASE_LISTEN_URL: behind PgBouncer in transaction mode LISTEN does not
// work, so the credential cache's one listening connection may go straight
// to PostgreSQL while the pool goes through the pooler.

const db = await createTestDatabase();
afterAll(() => db.drop());

const withApplicationName = (url: string, name: string) => {
  const parsed = new URL(url);
  parsed.searchParams.set("application_name", name);
  return parsed.toString();
};

test("DATABASE_LISTEN_URL without DATABASE_URL is refused in one line", () => {
  expect(() =>
    parseConfig({ NODE_ENV: "test", DATABASE_LISTEN_URL: "postgres://db.example/app" }),
  ).toThrow(
    new ConfigError("DATABASE_LISTEN_URL: needs DATABASE_URL (it names the same database)"),
  );
});

test("the server's LISTEN connection goes to DATABASE_LISTEN_URL, its pool to DATABASE_URL", async () => {
  const listenName = `gatehouse-listen-${process.pid}`;
  const server = Bun.spawn([process.execPath, "src/main.ts"], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      NODE_ENV: "test",
      LOG_LEVEL: "warn",
      PORT: "0",
      DATABASE_URL: db.url,
      DATABASE_LISTEN_URL: withApplicationName(db.url, listenName),
      AUTH_CACHE_TTL: "5s",
    },
    stdout: "ignore",
    stderr: "ignore",
  });
  try {
    const listening = async () =>
      db.pool.anyFirst(sql.unsafe`
        SELECT query FROM pg_stat_activity WHERE application_name = ${listenName}`);
    let queries = await listening();
    for (let i = 0; i < 100 && !queries.some((q) => /^LISTEN/i.test(String(q))); i++) {
      await Bun.sleep(100);
      queries = await listening();
    }
    expect(queries).toHaveLength(1);
    expect(String(queries[0])).toMatch(/^LISTEN/i);
  } finally {
    server.kill("SIGTERM");
    await server.exited;
  }
});
