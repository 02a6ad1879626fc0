import { afterAll, describe, expect, test } from "bun:test";
import { sql } from "slonik";
import { z } from "zod";
import { insertUser, type User } from "../sql/users.ts";
import { hashPassword } from "../src/password/hashing.ts";
import { startTestApp } from "./support/app.ts";
import { createTestDatabase } from "./support/database.ts";

const db = await createTestDatabase();
// TRUST_PROXY_HOPS=1 lets each test claim its own client address, so the
// per-IP counters of one test do not touch another's.
const env = { TRUST_PROXY_HOPS: "1", LOGIN_LOCKOUT: "4s", RATE_LIMIT_LOGIN_ACCOUNT: "50/5m" };
const app = await startTestApp(db.pool, env);
afterAll(async () => {
  await app.close();
  await db.drop();
});

const password = "correct horse battery staple";
let counter = 0;
let ipCounter = 0;
const nextIp = () => `198.51.100.${++ipCounter}`;

async function passwordUser(): Promise<User> {
  return insertUser(db.pool, {
    email: `grant${++counter}-${crypto.randomUUID().slice(0, 6)}@example.com`,
    emailVerified: true,
    isWhitelisted: true,
    passwordHash: await hashPassword(password, app.config.passwords),
  });
}

function grant(fields: Record<string, string>, ip: string, target = app, form = false) {
  return target.request("/auth/token", {
    method: "POST",
    headers: {
      "content-type": form ? "application/x-www-form-urlencoded" : "application/json",
      "x-forwarded-for": ip,
      "user-agent": "gatehouse-cli/2.0",
    },
    body: form ? new URLSearchParams(fields).toString() : JSON.stringify(fields),
  });
}

const login = (body: unknown, ip: string) =>
  app.request("/auth/login", {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": ip },
    body: JSON.stringify(body),
  });

const auditCount = (userId: string, eventType: string, method?: string) =>
  db.pool.oneFirst(sql.type(z.object({ count: z.number() }))`
    SELECT count(*)::int AS count FROM audit_events
    WHERE user_id = ${userId} AND event_type = ${eventType}
      AND (${method ?? null}::text IS NULL OR context->>'method' = ${method ?? null}::text)`);

describe("grant_type=password", () => {
  test("a NUL in a form field is an invalid_request naming the field, not the media type", async () => {
    const response = await grant(
      { grant_type: "password", email: "bob@example.com\u0000", password },
      nextIp(),
      app,
      true,
    );
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: string; error_description: string };
    expect(body.error).toBe("invalid_request");
    expect(body.error_description).toContain("#/email");
    expect(body.error_description).not.toContain("application/json");
  });

  test("the right password buys a pair whose access token works on /me and whose device is listed", async () => {
    const user = await passwordUser();
    const response = await grant(
      { grant_type: "password", email: user.email ?? "", password },
      nextIp(),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const pair = (await response.json()) as { access_token: string; refresh_token: string };
    const me = await app.request("/me", {
      headers: { authorization: `Bearer ${pair.access_token}` },
    });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { id: string }).id).toBe(user.id);

    const devices = await app.request("/me/sessions", {
      headers: { authorization: `Bearer ${pair.access_token}` },
    });
    const { sessions } = (await devices.json()) as {
      sessions: { kind: string; user_agent: string; current: boolean }[];
    };
    expect(sessions).toEqual([
      expect.objectContaining({ kind: "token", user_agent: "gatehouse-cli/2.0", current: true }),
    ]);
    expect(await auditCount(user.id, "login.succeeded", "token")).toBe(1);
    expect(await auditCount(user.id, "token.issued")).toBe(1);
  });

  test("takes a urlencoded form with RFC 6749's username field", async () => {
    const user = await passwordUser();
    const response = await grant(
      { grant_type: "password", username: user.email ?? "", password },
      nextIp(),
      app,
      true,
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ token_type: "Bearer", expires_in: 600 });
  });

  test("a wrong password and an unknown email get the same invalid_grant", async () => {
    const user = await passwordUser();
    const wrong = await grant(
      { grant_type: "password", email: user.email ?? "", password: "not it" },
      nextIp(),
    );
    const unknown = await grant(
      { grant_type: "password", email: "nobody-here@example.com", password },
      nextIp(),
    );
    expect(wrong.status).toBe(400);
    expect(unknown.status).toBe(400);
    const body = await wrong.json();
    expect(body).toMatchObject({ error: "invalid_grant" });
    expect(await unknown.json()).toEqual(body);
    expect(await auditCount(user.id, "login.failed", "token")).toBe(1);
  });

  test("missing or malformed fields are invalid_request", async () => {
    const cases: Record<string, string>[] = [
      { grant_type: "password", email: "a@example.com" },
      { grant_type: "password", password },
      { grant_type: "password", email: "not an email", password },
    ];
    for (const fields of cases) {
      const response = await grant(fields, nextIp());
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: "invalid_request" });
    }
  });

  test("failures through the token endpoint lock the account for /auth/login too", async () => {
    const user = await passwordUser();
    const ip = nextIp();
    for (let i = 0; i < app.config.limits.LOGIN_MAX_FAILURES; i++) {
      const response = await grant(
        { grant_type: "password", email: user.email ?? "", password: "wrong" },
        ip,
      );
      expect(response.status).toBe(400);
    }
    const viaLogin = await login({ email: user.email, password }, ip);
    expect(viaLogin.status).toBe(423);
    const viaToken = await grant({ grant_type: "password", email: user.email ?? "", password }, ip);
    expect(viaToken.status).toBe(400);
    expect(viaToken.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(await viaToken.json()).toMatchObject({ error: "invalid_grant" });
    await Bun.sleep(4100);
    expect(
      (await grant({ grant_type: "password", email: user.email ?? "", password }, ip)).status,
    ).toBe(200);
  }, 20000);

  test("an inactive account is refused even with the right password", async () => {
    const user = await passwordUser();
    await db.pool.query(sql.unsafe`UPDATE users SET status = 'inactive' WHERE id = ${user.id}`);
    const response = await grant(
      { grant_type: "password", email: user.email ?? "", password },
      nextIp(),
    );
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: "invalid_grant" });
  });

  test("the per-client rate limit is shared with /auth/login and answers 429 with Retry-After", async () => {
    const strict = await startTestApp(db.pool, { ...env, RATE_LIMIT_LOGIN_IP: "3/1h" });
    try {
      const ip = nextIp();
      const user = await passwordUser();
      const body = { email: user.email ?? "", password: "wrong" };
      const viaLogin = (target: typeof strict) =>
        target.request("/auth/login", {
          method: "POST",
          headers: { "content-type": "application/json", "x-forwarded-for": ip },
          body: JSON.stringify(body),
        });
      expect((await viaLogin(strict)).status).toBe(401);
      expect((await viaLogin(strict)).status).toBe(401);
      expect((await grant({ grant_type: "password", ...body }, ip, strict)).status).toBe(400);
      const limited = await grant({ grant_type: "password", ...body, password }, ip, strict);
      expect(limited.status).toBe(429);
      expect(limited.headers.get("retry-after")).toMatch(/^\d+$/);
      expect(await limited.json()).toMatchObject({ error: "slow_down" });
      expect((await viaLogin(strict)).status).toBe(429);
    } finally {
      await strict.close();
    }
  }, 20000);
});
