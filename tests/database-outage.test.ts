import { afterAll, expect, test } from "bun:test";
import { startAppBehindProxy } from "./support/app-behind-proxy.ts";
import { signedInUser } from "./support/sign-in.ts";

// While PostgreSQL is unreachable the service is unavailable, not broken:
// clients and proxies get 503 with Retry-After, and retry.

const { proxy, pool, app, close } = await startAppBehindProxy();
afterAll(close);

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
