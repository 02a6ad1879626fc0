import { describe, expect, test } from "bun:test";
import { sql } from "slonik";
import { appTestSetup } from "./support/app.ts";
import { signedInUser } from "./support/sign-in.ts";

// Route-wide bad text: NUL (which PostgreSQL refuses in text, so a 500 if it
// gets that far) and lone surrogates (not text at all) in every query
// parameter, path parameter and JSON body field of every route, sent by an
// administrator so the gate lets each request reach its handler. Every
// answer is a 4xx problem (or, for a page, a page that ignores it), never a
// 5xx, and nothing is written.

const { db, app } = await appTestSetup();
const { pool } = db;

const admin = await signedInUser(pool, app.config, { role: "admin", isWhitelisted: true });
const target = await signedInUser(pool, app.config);

/** Raw query-string bytes: NUL, a lone surrogate as a client can send it, both mid-text. */
const badQueryValues = ["%00", "a%00b", "%ED%A0%80", "x%ED%BF%BFy", "%C0%80"];
/** The same as JSON strings. */
const badJsonStrings = ["\u0000", "a\u0000b", "\ud800", "x\udfffy"];

const tables = [
  "users",
  "sessions",
  "refresh_tokens",
  "verification_tokens",
  "allowlist_rules",
  "audit_events",
  "oauth_accounts",
];
const rowCounts = () =>
  Promise.all(
    tables.map((t) => pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM ${sql.identifier([t])}`)),
  );

function headers(extra: Record<string, string> = {}): Record<string, string> {
  return {
    cookie: admin.cookie,
    origin: app.url,
    "sec-fetch-site": "same-origin",
    accept: "application/json",
    ...extra,
  };
}

async function expectRefusedOrHarmless(response: Response, what: string) {
  const body = await response.text();
  expect(response.status, `${what}: ${body.slice(0, 300)}`).toBeLessThan(500);
  if (response.status >= 400) {
    // /auth/token, /auth/revoke and /oauth2/token keep RFC 6749's JSON error shape.
    const oauthError = /^\w+ \/(auth\/(token|revoke)|oauth2\/token)\b/.test(what);
    expect(response.headers.get("content-type"), what).toMatch(
      oauthError ? /^application\/json/ : /^(application\/problem\+json|text\/html)/,
    );
  }
}

type JsonSchema = Record<string, unknown>;
type Operation = {
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
};
const document = (await (await app.request("/openapi.json")).json()) as {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, JsonSchema> };
};

/** Every operation the served document describes, with its path in the router's `:name` form. */
const apiRoutes = Object.entries(document.paths).flatMap(([path, operations]) =>
  Object.entries(operations).map(([method, operation]) => ({
    method,
    path: path.replace(/\{(\w+)\}/g, ":$1"),
    queryNames: (operation.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name),
    body: operation.requestBody?.content["application/json"]?.schema,
  })),
);

/** Every property name a body schema can carry (unions and shared schemas included). */
function bodyFields(schema: JsonSchema): string[] {
  const names = new Set<string>();
  const walk = (node: unknown) => {
    if (!node || typeof node !== "object") return;
    const n = node as Record<string, unknown>;
    if (typeof n.$ref === "string") {
      walk(document.components.schemas[n.$ref.replace("#/components/schemas/", "")]);
    }
    if (n.properties && typeof n.properties === "object") {
      for (const key of Object.keys(n.properties)) names.add(key);
    }
    for (const list of [n.anyOf, n.oneOf, n.allOf]) {
      if (Array.isArray(list)) for (const item of list) walk(item);
    }
  };
  walk(schema);
  return [...names];
}

const pathOf = (path: string, value: string) =>
  path.replace(/:([A-Za-z0-9_]+)/g, (_, name: string) =>
    name === "provider" ? "github" : name === "id" ? target.user.id : value,
  );

describe("NUL and lone surrogates are refused on every route", () => {
  test("in any declared query parameter: 4xx problem, never 5xx, nothing written", async () => {
    const before = await rowCounts();
    let checked = 0;
    for (const route of apiRoutes) {
      for (const name of route.queryNames) {
        for (const value of badQueryValues) {
          const path = `${pathOf(route.path, "x")}?${name}=${value}`;
          const response = await app.request(path, {
            method: route.method.toUpperCase(),
            headers: headers(),
            redirect: "manual",
          });
          await expectRefusedOrHarmless(response, `${route.method} ${path}`);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(20);
    expect(await rowCounts()).toEqual(before);
  });

  test("in any JSON body field: 4xx problem, never 5xx, nothing written", async () => {
    const before = await rowCounts();
    let checked = 0;
    for (const route of apiRoutes) {
      if (!route.body) continue;
      const fields = bodyFields(route.body);
      const bodies: Record<string, unknown>[] = [];
      for (const bad of badJsonStrings) {
        bodies.push(Object.fromEntries(fields.map((f) => [f, bad])));
        for (const field of fields) bodies.push({ [field]: bad });
      }
      if (route.path === "/admin/allowlist") {
        for (const kind of ["email", "domain", "github_org", "github_team"]) {
          for (const bad of badJsonStrings) bodies.push({ kind, value: `a${bad}@example.com` });
        }
      }
      for (const body of bodies) {
        const path = pathOf(route.path, "x");
        const response = await app.request(path, {
          method: route.method.toUpperCase(),
          headers: headers({ "content-type": "application/json" }),
          body: JSON.stringify(body),
          redirect: "manual",
        });
        await expectRefusedOrHarmless(response, `${route.method} ${path} ${JSON.stringify(body)}`);
        if (route.method !== "get") {
          expect(
            response.status,
            `${route.method} ${path} ${JSON.stringify(body)}`,
          ).toBeGreaterThanOrEqual(400);
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(50);
    expect(await rowCounts()).toEqual(before);
  });

  test("in any urlencoded form field, the admin page's forms included: 4xx, nothing written", async () => {
    const before = await rowCounts();
    const forms: [string, string[]][] = [
      ["/admin/forms/allowlist", ["kind", "value"]],
      [`/admin/forms/users/${target.user.id}`, ["action", "back"]],
    ];
    for (const route of apiRoutes) {
      if (route.body && route.method === "post") {
        forms.push([pathOf(route.path, "x"), bodyFields(route.body)]);
      }
    }
    for (const [path, fields] of forms) {
      for (const value of ["%00", "a%00b"]) {
        const body = fields.map((f) => `${f}=${value}`).join("&");
        for (const accept of ["application/json", "text/html"]) {
          const response = await app.request(path, {
            method: "POST",
            headers: headers({ "content-type": "application/x-www-form-urlencoded", accept }),
            body,
            redirect: "manual",
          });
          expect(response.status, `POST ${path} ${body} (${accept})`).toBeLessThan(500);
          if (response.status < 300) {
            throw new Error(`POST ${path} ${body} was accepted (${response.status})`);
          }
        }
      }
    }
    expect(await rowCounts()).toEqual(before);
  });

  test("in any path parameter: 4xx problem, never 5xx, nothing written", async () => {
    const before = await rowCounts();
    for (const route of apiRoutes.filter((r) => r.path.includes("/:"))) {
      for (const value of badQueryValues) {
        const path = route.path.replace(/:([A-Za-z0-9_]+)/g, value);
        const response = await app.request(path, {
          method: route.method.toUpperCase(),
          headers: headers(route.method === "get" ? {} : { "content-type": "application/json" }),
          body: route.method === "get" ? null : "{}",
          redirect: "manual",
        });
        await expectRefusedOrHarmless(response, `${route.method} ${path}`);
        expect(response.status).toBeGreaterThanOrEqual(400);
      }
    }
    expect(await rowCounts()).toEqual(before);
  });

  test("in the query of the browser pages (sign-in, admin, mail links): never 5xx", async () => {
    const before = await rowCounts();
    const pages = [
      "/",
      "/admin",
      `/admin/view/users/${target.user.id}`,
      "/auth/signup",
      "/auth/email/verify",
      "/auth/email/resend",
      "/auth/password/forgot",
      "/auth/password/reset",
      "/auth/github/login",
      "/auth/github/callback",
      "/auth/verify",
      "/admin/users",
      "/admin/audit",
    ];
    const names = [
      "q",
      "status",
      "whitelisted",
      "cursor",
      "limit",
      "notice",
      "error",
      "redirect_to",
      "token",
      "user_id",
      "event_type",
      "result",
      "since",
      "until",
      "group",
      "role",
      "mode",
    ];
    for (const page of pages) {
      for (const value of badQueryValues) {
        for (const accept of ["text/html", "application/json"]) {
          const path = `${page}?${names.map((n) => `${n}=${value}`).join("&")}`;
          const single = `${page}?q=${value}`;
          for (const p of [path, single]) {
            const response = await app.request(p, {
              headers: headers({ accept }),
              redirect: "manual",
            });
            await expectRefusedOrHarmless(response, `GET ${p} (${accept})`);
          }
        }
      }
    }
    expect(await rowCounts()).toEqual(before);
  });

  test("GET /admin/users?q=%00 and /admin?q=%00 answer 400 naming q, not 500", async () => {
    const api = await app.request("/admin/users?q=%00", { headers: headers() });
    expect(api.status).toBe(400);
    expect(api.headers.get("content-type")).toBe("application/problem+json");
    const problem = (await api.json()) as { errors: { pointer: string }[] };
    expect(problem.errors.map((e) => e.pointer)).toContain("#/q");
    const page = await app.request("/admin?q=%00", { headers: headers({ accept: "text/html" }) });
    expect(page.status).toBeLessThan(500);
  });
});
