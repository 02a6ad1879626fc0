import { expect, test } from "bun:test";
import { createApp } from "../src/app.ts";
import { parseConfig } from "../src/config/index.ts";
import { createServices } from "../src/services.ts";
import { appTestSetup } from "./support/app.ts";
import { testLogger } from "./support/database.ts";
import { apiRequest } from "./support/requests.ts";
import { signedInUser } from "./support/sign-in.ts";

const { db, app } = await appTestSetup();

// The admin page, the sign-in page and their form endpoints are for browsers, not part of the JSON API.
const browserOnly = [/^\/admin$/, /^\/admin\/view\//, /^\/admin\/forms\//, /^\/$/, /^\/sign-out$/];

/** The parts of the served document these tests read. */
type Document = {
  openapi: string;
  paths: Record<string, Record<string, DocumentedOperation>>;
  components: { schemas: Record<string, { properties?: object }> };
};
type DocumentedOperation = {
  description: string;
  security: object[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { content?: Record<string, { schema: { properties?: object } }> }>;
};
const servedDocument = async () => (await (await app.request("/openapi.json")).json()) as Document;

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
  const document = await servedDocument();
  const registered = hono.routes
    .filter((r) => r.method !== "ALL" && !browserOnly.some((p) => p.test(r.path)))
    .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, "{$1}")}`);
  const documented = Object.entries(document.paths).flatMap(([path, ops]) =>
    Object.keys(ops).map((m) => `${m} ${path}`),
  );
  expect(registered.length).toBeGreaterThan(10);
  expect([...new Set(registered)].filter((r) => !documented.includes(r))).toEqual([]);
  expect(documented.filter((d) => !registered.includes(d))).toEqual([]);
});

test("request bodies and responses carry the routes' own schemas", async () => {
  const document = await servedDocument();
  const reference = document.paths["/me"]?.get?.responses["200"]?.content?.["application/json"]
    ?.schema as { $ref?: string } | undefined;
  // The user is a shared schema: the response names it.
  expect(reference?.$ref).toBe("#/components/schemas/User");
  const me = document.components.schemas.User;
  expect(Object.keys(me?.properties ?? {})).toContain("is_whitelisted");
  const unauthorized = document.paths["/me"]?.get?.responses["401"]?.content;
  expect(unauthorized).toHaveProperty("application/problem+json");
});

test("admin request schemas come from the routes' own validation, with refusals listed", async () => {
  const document = await servedDocument();
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

test("the gate each operation documents is the gate it runs", async () => {
  const document = await servedDocument();
  // Its handler answers a caller without a session (a form page offers to sign in).
  const checkedByHandler = [
    "post /auth/email/verify",
    "get /account",
    "get /account/passkeys",
    "get /account/security",
  ];
  const pending = await signedInUser(db.pool, app.config, { isWhitelisted: false });
  const approved = await signedInUser(db.pool, app.config, { isWhitelisted: true });
  const send = (method: string, path: string, cookie?: string) =>
    apiRequest(app, method, path.replace(/\{\w+\}/g, crypto.randomUUID()), {
      cookie,
      body: method === "get" ? undefined : {},
    });
  const wrong: string[] = [];
  let gated = 0;
  for (const [path, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const at = `${method} ${path}`;
      const access = operation.description.match(/^Access: ([\w-]+)\./)?.[1];
      if (!["signed-in", "gated", "admin"].includes(access ?? "")) continue;
      expect(operation.security, at).toEqual([{ sessionCookie: [] }, { bearer: [] }]);
      if (checkedByHandler.includes(at)) continue;
      gated++;
      const anonymous = await send(method, path);
      if (anonymous.status !== 401) wrong.push(`${at} anonymous: ${anonymous.status}`);
      if (access === "gated" || access === "admin") {
        const answer = await send(method, path, pending.cookie);
        if (answer.status !== 403) wrong.push(`${at} pending: ${answer.status}`);
      }
      if (access === "admin") {
        const answer = await send(method, path, approved.cookie);
        if (answer.status !== 403) wrong.push(`${at} not an admin: ${answer.status}`);
      }
    }
  }
  expect(gated).toBeGreaterThan(15);
  expect(wrong).toEqual([]);
});
