import { afterAll, expect, test } from "bun:test";
import { createDatabasePool } from "../src/db/pool.ts";
import { startTestApp } from "./support/app.ts";
import { createTestDatabase, testLogger } from "./support/database.ts";
import { signedInUser } from "./support/sign-in.ts";
import { startTcpProxy } from "./support/tcp-proxy.ts";

// While PostgreSQL is unreachable the service is unavailable, not broken:
// clients and proxies get 503 with Retry-After, and retry.

const db = await createTestDatabase();
const target = new URL(db.url);
const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
const proxied = new URL(db.url);
proxied.port = String(proxy.port);
const pool = await createDatabasePool({
  url: proxied.toString(),
  minPoolSize: 0,
  maxPoolSize: 4,
  connectionTimeoutMs: 1000,
  statementTimeoutMs: 5000,
  slowQueryMs: 1000,
  logger: testLogger,
});
const app = await startTestApp(pool);
afterAll(async () => {
  await app.close();
  proxy.close();
  await pool.end().catch(() => {});
  await db.drop();
});

type Problem = { type: string; title: string; status: number; detail: string };

async function expectDatabaseUnavailable(response: Response) {
  expect(response.status).toBe(503);
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
  const body = (await response.json()) as Problem;
  expect(body).toMatchObject({ title: "Service Unavailable", status: 503 });
  expect(body.detail).toContain("database is unavailable");
}

test("while the database is unreachable, database-backed routes answer 503 with Retry-After, then work again", async () => {
  const { cookie } = await signedInUser(pool, app.config);
  expect((await app.request("/me", { headers: { cookie } })).status).toBe(200);

  proxy.cut();
  try {
    await expectDatabaseUnavailable(await app.request("/me", { headers: { cookie } }));
    await expectDatabaseUnavailable(
      await app.request("/auth/login", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: "someone@example.com", password: "correct horse battery" }),
      }),
    );
    // Forward-auth's lean chain too: a proxy then shows its own "unavailable" page.
    await expectDatabaseUnavailable(await app.request("/auth/verify", { headers: { cookie } }));
  } finally {
    proxy.restore();
  }

  let status = 0;
  for (let attempt = 0; attempt < 20 && status !== 200; attempt++) {
    status = (await app.request("/me", { headers: { cookie } })).status;
    if (status !== 200) await Bun.sleep(100);
  }
  expect(status).toBe(200);
});
