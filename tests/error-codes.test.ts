import { afterAll, describe, expect, test } from "bun:test";
import { readFile } from "node:fs/promises";
import { DomainError, errorCodes } from "../src/errors.ts";
import { answeredCodes, oauthErrorOf, problemOf } from "../src/http/error-map.ts";
import { startTestApp } from "./support/app.ts";
import { createTestDatabase } from "./support/database.ts";
import { approvedPasswordUser, signedInUser } from "./support/sign-in.ts";

const db = await createTestDatabase();
// TRUST_PROXY_HOPS=1: each test claims its own client address, so one test's
// rate-limit counters never touch another's.
const app = await startTestApp(
  db.pool,
  { TRUST_PROXY_HOPS: "1", LOGIN_MAX_FAILURES: "2", RATE_LIMIT_LOGIN_IP: "3/5m" },
  (hono) => {
    hono.get("/test/crash", () => {
      throw new Error("a bug of ours");
    });
  },
);
afterAll(async () => {
  await app.close();
  await db.drop();
});

const password = "correct horse battery staple";
let ip = 0;
const nextIp = () => `198.51.100.${++ip}`;

const passwordUser = () => approvedPasswordUser(db.pool, app.config, { isWhitelisted: false });

const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json", "x-forwarded-for": nextIp(), ...headers },
  body: JSON.stringify(body),
});

async function codeOf(response: Response): Promise<string | undefined> {
  const body = (await response.json()) as { code?: string };
  return body.code;
}

describe("the list of codes", () => {
  test("every documented code has an answer, and every answer a documented code", () => {
    expect([...answeredCodes].sort()).toEqual([...errorCodes].sort());
    for (const code of errorCodes) {
      const problem = problemOf(new DomainError(code));
      expect(problem.code).toBe(code);
      expect(problem.status).toBeGreaterThanOrEqual(400);
      expect(problem.title.length).toBeGreaterThan(0);
      expect(problem.detail.length).toBeGreaterThan(0);
      expect(oauthErrorOf(new DomainError(code)).body.code).toBe(code);
    }
  });

  test("docs/errors.md lists exactly the codes", async () => {
    const doc = await readFile(new URL("../docs/errors.md", import.meta.url), "utf8");
    const listed = [...doc.matchAll(/^\| `([a-z_]+)` +\|/gm)].map((m) => m[1]);
    expect(listed.sort()).toEqual([...errorCodes].sort());
  });

  test("the OpenAPI document's Problem schema enumerates the codes", async () => {
    const document = (await (await app.request("/openapi.json")).json()) as {
      components?: { schemas?: Record<string, { properties?: { code?: { enum?: string[] } } }> };
      $defs?: Record<string, { properties?: { code?: { enum?: string[] } } }>;
    };
    const problem = document.components?.schemas?.Problem ?? document.$defs?.Problem;
    const found = problem?.properties?.code?.enum ?? findCodeEnum(document);
    expect([...(found ?? [])].sort()).toEqual([...errorCodes].sort());
  });
});

/** The `code` enum wherever the document keeps the Problem schema. */
function findCodeEnum(value: unknown): string[] | undefined {
  if (!value || typeof value !== "object") return undefined;
  const record = value as Record<string, unknown>;
  const code = (record.properties as Record<string, { enum?: string[] }> | undefined)?.code;
  if (record.properties && "request_id" in (record.properties as object) && code?.enum) {
    return code.enum;
  }
  for (const item of Object.values(record)) {
    const found = findCodeEnum(item);
    if (found) return found;
  }
  return undefined;
}

describe("refusals carry their code", () => {
  test("a wrong password is invalid_credentials", async () => {
    const user = await passwordUser();
    const response = await app.request(
      "/auth/login",
      json({ email: user.email, password: "wrong" }),
    );
    expect(response.status).toBe(401);
    expect(await codeOf(response)).toBe("invalid_credentials");
  });

  test("the right password on a locked account is account_locked, with Retry-After", async () => {
    const user = await passwordUser();
    for (let i = 0; i < 2; i++) {
      await app.request("/auth/login", json({ email: user.email, password: "wrong" }));
    }
    const response = await app.request("/auth/login", json({ email: user.email, password }));
    expect(response.status).toBe(423);
    expect(response.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(await codeOf(response)).toBe("account_locked");
  });

  test("a rate limit is rate_limited, on /auth/login and on the token endpoint", async () => {
    const from = nextIp();
    const attempt = (path: string, body: unknown) =>
      app.request(path, json(body, { "x-forwarded-for": from }));
    const answers: Response[] = [];
    for (let i = 0; i < 3; i++) {
      answers.push(await attempt("/auth/login", { email: "nobody@example.com", password: "x" }));
    }
    const limited = await attempt("/auth/login", { email: "nobody@example.com", password: "x" });
    expect(limited.status).toBe(429);
    expect(await codeOf(limited)).toBe("rate_limited");
    const grant = await attempt("/auth/token", {
      grant_type: "password",
      email: "nobody@example.com",
      password: "x",
    });
    expect(grant.status).toBe(429);
    expect(await grant.json()).toMatchObject({ error: "slow_down", code: "rate_limited" });
  });

  test("invalid fields are validation_failed, a weak password weak_password", async () => {
    const invalid = await app.request("/auth/signup", json({ email: "nope", password: 1 }));
    expect(invalid.status).toBe(400);
    expect(await codeOf(invalid)).toBe("validation_failed");
    const weak = await app.request(
      "/auth/signup",
      json({ email: "weak@example.com", password: "short" }),
    );
    expect(weak.status).toBe(400);
    expect(await codeOf(weak)).toBe("weak_password");
  });

  test("an unknown route is not_found, an unknown user user_not_found", async () => {
    const route = await app.request("/no/such/route");
    expect(route.status).toBe(404);
    expect(await codeOf(route)).toBe("not_found");
    const { cookie } = await signedInUser(db.pool, app.config, {
      role: "admin",
      isWhitelisted: true,
    });
    const user = await app.request(`/admin/users/${crypto.randomUUID()}`, { headers: { cookie } });
    expect(user.status).toBe(404);
    expect(await codeOf(user)).toBe("user_not_found");
  });

  test("a cross-site form post is csrf_failed", async () => {
    const response = await app.request("/auth/login", {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        origin: "https://evil.example",
      },
      body: "email=a%40example.com&password=x",
    });
    expect(response.status).toBe(403);
    expect(await codeOf(response)).toBe("csrf_failed");
  });

  test("reusing a refresh token is refresh_token_reused beside invalid_grant", async () => {
    const user = await passwordUser();
    const first = await app.request(
      "/auth/token",
      json({ grant_type: "password", email: user.email, password }),
    );
    expect(first.status).toBe(200);
    const { refresh_token } = (await first.json()) as { refresh_token: string };
    const refresh = () =>
      app.request("/auth/token", json({ grant_type: "refresh_token", refresh_token }));
    expect((await refresh()).status).toBe(200);
    const reused = await refresh();
    expect(reused.status).toBe(400);
    expect(await reused.json()).toMatchObject({
      error: "invalid_grant",
      code: "refresh_token_reused",
    });
    const unknown = await app.request(
      "/auth/token",
      json({ grant_type: "refresh_token", refresh_token: "A".repeat(43) }),
    );
    expect(await unknown.json()).toMatchObject({
      error: "invalid_grant",
      code: "refresh_token_invalid",
    });
  });

  test("our own fault is internal_error, with the request id", async () => {
    const response = await app.request("/test/crash");
    expect(response.status).toBe(500);
    const body = (await response.json()) as { code: string; request_id: string };
    expect(body.code).toBe("internal_error");
    expect(body.request_id.length).toBeGreaterThan(0);
  });
});

test("no problem answered to a sweep of bad requests lacks a code", async () => {
  const { cookie: pending } = await signedInUser(db.pool, app.config, { isWhitelisted: false });
  const { cookie: member } = await signedInUser(db.pool, app.config, { isWhitelisted: true });
  const form = { "content-type": "application/x-www-form-urlencoded" };
  const requests: [string, RequestInit][] = [
    ["/me", {}],
    ["/me", { headers: { authorization: "Bearer not-a-token" } }],
    ["/me/sessions", { headers: { cookie: pending } }],
    ["/admin/users", { headers: { cookie: member } }],
    ["/admin/users?limit=nope", { headers: { cookie: member } }],
    [`/me/sessions/${crypto.randomUUID()}`, { method: "DELETE", headers: { cookie: member } }],
    ["/me/accounts/nope", { method: "DELETE", headers: { cookie: member } }],
    ["/auth/nope/login", {}],
    ["/auth/github/callback", {}],
    ["/auth/login", json({ email: "x" })],
    ["/auth/login", { method: "POST", headers: { "content-type": "text/plain" }, body: "x" }],
    ["/auth/login", { method: "POST", headers: { "content-type": "application/json" }, body: "{" }],
    ["/auth/signup", { method: "POST", headers: form, body: "%" }],
    ["/auth/login", json({ email: "x".repeat(app.config.http.BODY_LIMIT_BYTES + 1) })],
    ["/auth/password/reset", json({ token: "nope", password })],
    ["/auth/password/change", json({ current_password: "x", new_password: password })],
    ["/auth/email/verify", json({ token: "nope" })],
    ["/auth/token/session", { method: "POST", headers: { authorization: "Bearer x" } }],
    ["/auth/verify", { headers: { accept: "application/json" } }],
    ["/auth/verify", { headers: { cookie: pending } }],
    ["/metrics?x=%00", {}],
    ["/admin/audit?cursor=forged", { headers: { cookie: member } }],
  ];
  let problems = 0;
  for (const [path, init] of requests) {
    const response = await app.request(path, init);
    if (response.status < 400) continue;
    const type = response.headers.get("content-type") ?? "";
    if (!type.startsWith("application/problem+json")) continue;
    problems++;
    const body = (await response.json()) as { code?: string; status: number };
    expect({ path, code: errorCodes.includes(body.code as never) }).toEqual({ path, code: true });
    expect(body.status).toBe(response.status);
  }
  expect(problems).toBeGreaterThan(15);
});
