import { afterAll, expect, test } from "bun:test";
import { apiRoutes, createApp } from "../src/app.ts";
import { parseConfig } from "../src/config/index.ts";
import { createServices } from "../src/services.ts";
import { startTestApp } from "./support/app.ts";
import { createTestDatabase, testLogger } from "./support/database.ts";

const db = await createTestDatabase();
const app = await startTestApp(db.pool);
afterAll(async () => {
  await app.close();
  await db.drop();
});

// The admin page, the sign-in page and their form endpoints are for browsers, not part of the JSON API.
const browserOnly = [/^\/admin$/, /^\/admin\/view\//, /^\/admin\/forms\//, /^\/$/, /^\/sign-out$/];

type Document = { openapi: string; paths: Record<string, Record<string, { responses: object }>> };

test("/openapi.json is an OpenAPI 3.1 document", async () => {
  const response = await app.request("/openapi.json");
  expect(response.status).toBe(200);
  const document = (await response.json()) as Document;
  expect(document.openapi).toBe("3.1.0");
  expect(document.paths["/me"]?.get?.responses).toHaveProperty("200");
});

test("every route the app registers is described in the document", async () => {
  const services = await createServices(
    parseConfig({ NODE_ENV: "test", DATABASE_URL: "postgres://unused", AUTH_CACHE_TTL: "0" }),
    { pool: db.pool, logger: testLogger },
  );
  const hono = createApp(services);
  await services.close();
  const document = (await (await app.request("/openapi.json")).json()) as Document;
  const registered = hono.routes
    .filter((r) => r.method !== "ALL" && !browserOnly.some((p) => p.test(r.path)))
    .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, "{$1}")}`);
  const documented = Object.entries(document.paths).flatMap(([path, ops]) =>
    Object.keys(ops).map((m) => `${m} ${path}`),
  );
  expect(registered.length).toBeGreaterThan(10);
  expect([...new Set(registered)].filter((r) => !documented.includes(r))).toEqual([]);
  expect(documented.filter((d) => !registered.includes(d))).toEqual([]);
  expect(new Set(apiRoutes.map((r) => `${r.method} ${r.path}`)).size).toBe(apiRoutes.length);
});

test("request bodies and responses carry the routes' own schemas", async () => {
  const document = (await (await app.request("/openapi.json")).json()) as {
    paths: Record<
      string,
      Record<
        string,
        {
          responses: Record<
            string,
            { content?: Record<string, { schema: { properties?: object } }> }
          >;
        }
      >
    >;
  };
  const me = document.paths["/me"]?.get?.responses["200"]?.content?.["application/json"]?.schema;
  expect(Object.keys(me?.properties ?? {})).toContain("is_whitelisted");
  const unauthorized = document.paths["/me"]?.get?.responses["401"]?.content;
  expect(unauthorized).toHaveProperty("application/problem+json");
});

test("admin request schemas come from the routes' own validation, with refusals listed", async () => {
  const document = (await (await app.request("/openapi.json")).json()) as {
    paths: Record<
      string,
      Record<
        string,
        { requestBody?: { content: Record<string, { schema: unknown }> }; responses: object }
      >
    >;
  };
  const patch = document.paths["/admin/users/{id}"]?.patch;
  expect(patch?.requestBody?.content["application/json"]?.schema).toMatchObject({
    properties: { role: { enum: ["user", "admin"] } },
  });
  expect(Object.keys(patch?.responses ?? {})).toEqual(
    expect.arrayContaining(["200", "400", "401", "403", "404", "409"]),
  );
});

test("/docs renders a readable reference page", async () => {
  const response = await app.request("/docs");
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("text/html");
  const html = await response.text();
  expect(html).toContain("<code>/me</code>");
  expect(html).toContain("/openapi.json");
});
