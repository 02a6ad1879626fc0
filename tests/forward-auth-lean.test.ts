import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestApp, type TestApp } from "./support/app.ts";
import { createTestDatabase } from "./support/database.ts";
import { signedInUser } from "./support/sign-in.ts";

// GET /auth/verify runs before the general middleware with only part of it
// (src/app.ts); what it keeps is checked here.

const db = await createTestDatabase();
let app: TestApp;

beforeAll(async () => {
  app = await startTestApp(db.pool);
});
afterAll(async () => {
  await app.close();
  await db.drop();
});

describe("forward-auth's lean middleware", () => {
  test("an allowed request gets a request id, and a well-formed incoming one is kept", async () => {
    const { cookie } = await signedInUser(db.pool, app.config, { isWhitelisted: true });
    const fresh = await app.request("/auth/verify", { headers: { cookie } });
    expect(fresh.status).toBe(200);
    expect(fresh.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const kept = await app.request("/auth/verify", {
      headers: { cookie, "x-request-id": "proxy-chosen-id-1" },
    });
    expect(kept.headers.get("x-request-id")).toBe("proxy-chosen-id-1");
  });

  test("a refusal, which a proxy may hand to the browser, carries the secure headers", async () => {
    const response = await app.request("/auth/verify?mode=401");
    expect(response.status).toBe(401);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("x-frame-options")).toBe("SAMEORIGIN");
    expect(response.headers.get("x-request-id")).toBeTruthy();
  });

  test("forward-auth requests are counted under their route pattern", async () => {
    await app.request("/auth/verify?mode=401");
    const metrics = await (await app.request("/metrics")).text();
    expect(metrics).toMatch(
      /gatehouse_http_requests_total\{method="GET",route="\/auth\/verify",status="401"\} [1-9]/,
    );
  });
});
