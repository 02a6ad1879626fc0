import { afterAll, describe, expect, test } from "bun:test";
import { sql } from "slonik";
import { z } from "zod";
import { readBody } from "../src/http/json-body.ts";
import { startTestApp } from "./support/app.ts";
import { createTestDatabase } from "./support/database.ts";
import { signedInUser } from "./support/sign-in.ts";

const db = await createTestDatabase();
const app = await startTestApp(db.pool, { BODY_LIMIT_BYTES: "2048" }, (hono) => {
  hono.post("/test/echo", async (c) =>
    c.json(await readBody(c, z.object({ email: z.email(), age: z.number().int() }))),
  );
});
afterAll(async () => {
  await app.close();
  await db.drop();
});

async function expectProblem(response: Response, status: number) {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  const body = (await response.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ status, title: expect.any(String), type: expect.any(String) });
  return body;
}

describe("errors are RFC 9457 problems", () => {
  test("an unknown route is a 404 problem", async () => {
    const body = await expectProblem(await app.request("/no/such/route"), 404);
    expect(body.detail).toBe("No route for GET /no/such/route");
  });

  test("malformed JSON is a 400 problem", async () => {
    const response = await app.request("/test/echo", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"email": ',
    });
    const body = await expectProblem(response, 400);
    expect(body.title).toEqual("Malformed JSON");
  });

  test("invalid fields are a 400 problem naming each field", async () => {
    const response = await app.request("/test/echo", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "nope", age: "x" }),
    });
    const body = await expectProblem(response, 400);
    expect((body.errors as { pointer: string }[]).map((e) => e.pointer).sort()).toEqual([
      "#/age",
      "#/email",
    ]);
  });

  test("a body over the limit is a 413 problem", async () => {
    const response = await app.request("/test/echo", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "a@example.com", age: 1, padding: "x".repeat(4096) }),
    });
    await expectProblem(response, 413);
  });

  test("a body of another media type is a 415 problem", async () => {
    const response = await app.request("/test/echo", {
      method: "POST",
      headers: { "content-type": "text/xml" },
      body: "<a/>",
    });
    await expectProblem(response, 415);
  });

  test("a valid body passes through", async () => {
    const response = await app.request("/test/echo", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "a@example.com", age: 3 }),
    });
    expect(await response.json()).toEqual({ email: "a@example.com", age: 3 });
  });
});

describe("request basics", () => {
  test("an incoming X-Request-Id is echoed, and one is made up when absent", async () => {
    const given = await app.request("/healthz", { headers: { "x-request-id": "trace-123" } });
    expect(given.headers.get("x-request-id")).toBe("trace-123");
    const made = await app.request("/healthz");
    expect(made.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  test("responses carry the secure headers", async () => {
    const response = await app.request("/healthz");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("x-frame-options")).toBe("SAMEORIGIN");
  });

  test("/healthz answers without the database", async () => {
    const response = await app.request("/healthz");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });
});

describe("signed-in basics", () => {
  test("/me without credentials is a 401 problem", async () => {
    await expectProblem(await app.request("/me"), 401);
  });

  test("/me answers the signed-in user, pending approval included", async () => {
    const { user, cookie } = await signedInUser(db.pool, app.config);
    const response = await app.request("/me", { headers: { cookie } });
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toMatchObject({
      id: user.id,
      email: user.email,
      is_whitelisted: false,
      status: "active",
    });
    expect(JSON.stringify(body)).not.toContain("argon2");
  });

  test("logout revokes the session on the server and clears the cookie", async () => {
    const { cookie, sessionId } = await signedInUser(db.pool, app.config);
    const response = await app.request("/auth/logout", {
      method: "POST",
      headers: { cookie, origin: app.config.http.PUBLIC_URL },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get("set-cookie")).toContain("Max-Age=0");
    const revokedAt = await db.pool.oneFirst(
      sql.unsafe`SELECT revoked_at FROM sessions WHERE id = ${sessionId}`,
    );
    expect(revokedAt).toBeInstanceOf(Date);
    expect((await app.request("/me", { headers: { cookie } })).status).toBe(401);
  });

  test("a cross-site form POST with the session cookie is refused and changes nothing", async () => {
    const { cookie, sessionId } = await signedInUser(db.pool, app.config);
    const response = await app.request("/auth/logout", {
      method: "POST",
      headers: {
        cookie,
        origin: "https://evil.example",
        "sec-fetch-site": "cross-site",
        "content-type": "application/x-www-form-urlencoded",
      },
      body: "x=1",
    });
    await expectProblem(response, 403);
    const revokedAt = await db.pool.oneFirst(
      sql.unsafe`SELECT revoked_at FROM sessions WHERE id = ${sessionId}`,
    );
    expect(revokedAt).toBeNull();
  });

  test("a cookie-bearing POST with no Origin or Sec-Fetch-Site is refused (a browser always sends one)", async () => {
    const { cookie } = await signedInUser(db.pool, app.config);
    await expectProblem(
      await app.request("/auth/logout", { method: "POST", headers: { cookie } }),
      403,
    );
  });

  test("a refused cross-site request says why in its detail", async () => {
    const { cookie } = await signedInUser(db.pool, app.config);
    const body = await expectProblem(
      await app.request("/auth/logout", { method: "POST", headers: { cookie } }),
      403,
    );
    expect(body.detail).toContain("Origin");
  });

  test("a cross-site sign-in form without cookie or Sec-Fetch-Site is refused (login CSRF)", async () => {
    const response = await app.request("/auth/login", {
      method: "POST",
      headers: {
        origin: "https://evil.example",
        "content-type": "application/x-www-form-urlencoded",
      },
      body: "email=attacker%40example.com&password=whatever-it-is",
    });
    await expectProblem(response, 403);
    expect(response.headers.get("set-cookie")).toBeNull();
  });

  test("a same-origin form POST with the session cookie is accepted", async () => {
    const { cookie } = await signedInUser(db.pool, app.config);
    const response = await app.request("/auth/logout", {
      method: "POST",
      headers: {
        cookie,
        origin: app.config.http.PUBLIC_URL,
        "sec-fetch-site": "same-origin",
        "content-type": "application/x-www-form-urlencoded",
      },
      body: "x=1",
    });
    expect(response.status).toBe(204);
  });
});
