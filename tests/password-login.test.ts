import { afterAll, describe, expect, test } from "bun:test";
import { sql } from "slonik";
import { insertUser } from "../sql/users.ts";
import { parseConfig } from "../src/config/index.ts";
import type { DomainError } from "../src/errors.ts";
import { problemOf } from "../src/http/error-map.ts";
import { hashPassword } from "../src/password/hashing.ts";
import { postgresRateLimitStore } from "../src/rate-limits/rate-limit-stores.ts";
import { clientNetwork } from "../src/rate-limits/rate-limiter.ts";
import { verifyPasswordLogin } from "../src/sign-in/password-login.ts";
import { startTestApp } from "./support/app.ts";
import { createTestDatabase, testLogger } from "./support/database.ts";
import { approvedPasswordUser } from "./support/sign-in.ts";

const { pool, drop } = await createTestDatabase();
// TRUST_PROXY_HOPS=1 lets each test claim its own client address through
// X-Forwarded-For, so the per-IP counters of one test do not touch another's.
const env = { TRUST_PROXY_HOPS: "1", LOGIN_LOCKOUT: "2s", RATE_LIMIT_LOGIN_ACCOUNT: "50/5m" };
const app = await startTestApp(pool, env);
afterAll(async () => {
  await app.close();
  await drop();
});

const password = "correct horse battery staple";
let counter = 0;
let ipCounter = 0;
const nextIp = () => `203.0.113.${++ipCounter}`;

const passwordUser = (fields: { passwordHash?: string } = {}) =>
  approvedPasswordUser(pool, app.config, { isWhitelisted: false, ...fields });

function login(body: unknown, ip: string, target = app) {
  return target.request("/auth/login", {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": ip },
    body: JSON.stringify(body),
  });
}

/** The status a refusal of the domain function is answered with over HTTP. */
const answeredStatus = (refusal: DomainError) => problemOf(refusal).status;

type AuditRow = { event_type: string; result: string; failure_reason: string | null };

async function auditOf(userId: string): Promise<readonly AuditRow[]> {
  return (await pool.any(sql.unsafe`
    SELECT event_type, result, failure_reason FROM audit_events
    WHERE user_id = ${userId} ORDER BY occurred_at, id`)) as readonly AuditRow[];
}

describe("POST /auth/login", () => {
  test("the right password signs in with a session cookie that /me accepts", async () => {
    const user = await passwordUser();
    const response = await login({ email: user.email, password }, nextIp());
    expect(response.status).toBe(200);
    const body = (await response.json()) as { user: { id: string; email: string } };
    expect(body.user).toMatchObject({ id: user.id, email: user.email, has_password: true });
    const cookie = response.headers.get("set-cookie")?.split(";")[0] ?? "";
    expect(cookie).toStartWith("gatehouse_session=");
    const me = await app.request("/me", { headers: { cookie } });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { id: string }).id).toBe(user.id);
    expect((await auditOf(user.id)).map((e) => e.event_type)).toEqual(["login.succeeded"]);
  });

  test("the email matches whatever its case and surrounding spaces", async () => {
    const user = await passwordUser();
    const response = await login({ email: ` ${user.email?.toUpperCase()} `, password }, nextIp());
    expect(response.status).toBe(200);
  });

  test("unknown and known emails get the same 401 in similar time", async () => {
    const user = await passwordUser();
    const timed = async (email: string) => {
      const started = performance.now();
      const response = await login({ email, password: "wrong password here" }, nextIp());
      return {
        ms: performance.now() - started,
        status: response.status,
        body: await response.json(),
      };
    };
    await timed("warm-up@example.com");
    const known = [];
    const unknown = [];
    for (let i = 0; i < 3; i++) {
      known.push(await timed(user.email ?? ""));
      unknown.push(await timed(`nobody${i}@example.com`));
    }
    for (const answer of [...known, ...unknown]) {
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual(known[0]?.body);
    }
    const median = (xs: { ms: number }[]) => xs.map((x) => x.ms).sort((a, b) => a - b)[1] ?? 0;
    // Both verify an argon2id hash of the same cost; without the dummy hash an
    // unknown email would answer in a fraction of the time.
    expect(median(unknown)).toBeGreaterThan(median(known) * 0.5);
    expect(median(known)).toBeGreaterThan(median(unknown) * 0.5);
    const failures = await pool.anyFirst(sql.unsafe`
      SELECT failure_reason FROM audit_events WHERE event_type = 'login.failed'
        AND user_id IS NULL AND failure_reason = 'unknown_email'`);
    expect(failures.length).toBeGreaterThanOrEqual(3);
  });

  test("five wrong passwords lock the account: the right one gets 423 until the lock ends", async () => {
    const user = await passwordUser();
    const ip = nextIp();
    for (let i = 0; i < 5; i++) {
      expect((await login({ email: user.email, password: `wrong ${i} password` }, ip)).status).toBe(
        401,
      );
    }
    const locked = await login({ email: user.email, password }, ip);
    expect(locked.status).toBe(423);
    expect(locked.headers.get("content-type")).toBe("application/problem+json");
    const retryAfter = Number(locked.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(2);
    // A wrong password during the lock is the ordinary 401: locking reveals nothing.
    expect((await login({ email: user.email, password: "still wrong!" }, ip)).status).toBe(401);
    await Bun.sleep(2100);
    expect((await login({ email: user.email, password }, ip)).status).toBe(200);
    const events = (await auditOf(user.id)).map((e) => `${e.event_type}:${e.failure_reason ?? ""}`);
    expect(events).toEqual([
      "login.failed:bad_password",
      "login.failed:bad_password",
      "login.failed:bad_password",
      "login.failed:bad_password",
      "account.locked:",
      "login.failed:bad_password",
      "login.failed:locked",
      "login.failed:bad_password",
      "login.succeeded:",
    ]);
  });

  test("a success resets the failure count", async () => {
    const user = await passwordUser();
    const ip = nextIp();
    for (let i = 0; i < 4; i++) await login({ email: user.email, password: "wrong password" }, ip);
    expect((await login({ email: user.email, password }, ip)).status).toBe(200);
    for (let i = 0; i < 4; i++) await login({ email: user.email, password: "wrong password" }, ip);
    expect((await login({ email: user.email, password }, ip)).status).toBe(200);
  });

  test("a repeated lockout lasts twice as long", async () => {
    const user = await passwordUser();
    const ip = nextIp();
    const lockOnce = async () => {
      for (let i = 0; i < 5; i++)
        await login({ email: user.email, password: "wrong password" }, ip);
      return pool.oneFirst(sql.unsafe`
        SELECT extract(epoch FROM locked_until - now()) FROM users WHERE id = ${user.id}`);
    };
    expect(Number(await lockOnce())).toBeLessThanOrEqual(2);
    await Bun.sleep(2100);
    const second = Number(await lockOnce());
    expect(second).toBeGreaterThan(2);
    expect(second).toBeLessThanOrEqual(4);
  });

  test("concurrent wrong passwords are all counted", async () => {
    const user = await passwordUser();
    const ip = nextIp();
    await Promise.all(
      Array.from({ length: 5 }, () => login({ email: user.email, password: "wrong password" }, ip)),
    );
    expect((await login({ email: user.email, password }, ip)).status).toBe(423);
  });

  test("a hash made with a weaker cost is replaced at the next login", async () => {
    const weak = await Bun.password.hash(password, {
      algorithm: "argon2id",
      memoryCost: 8192,
      timeCost: 1,
    });
    const user = await passwordUser({ passwordHash: weak });
    expect((await login({ email: user.email, password }, nextIp())).status).toBe(200);
    const stored = String(
      await pool.oneFirst(sql.unsafe`SELECT password_hash FROM users WHERE id = ${user.id}`),
    );
    expect(stored).toStartWith("$argon2id$v=19$m=19456,t=2,p=1$");
    expect(await Bun.password.verify(password, stored)).toBe(true);
    expect((await login({ email: user.email, password }, nextIp())).status).toBe(200);
  });

  test("a password is compared after NFKC normalisation", async () => {
    const user = await insertUser(pool, {
      email: `nfkc${++counter}@example.com`,
      emailVerified: true,
      passwordHash: await hashPassword("ﬁve ﬁne ﬁsh ﬁllets", app.config.passwords),
    });
    expect(
      (await login({ email: user.email, password: "five fine fish fillets" }, nextIp())).status,
    ).toBe(200);
  });

  test("an account without a password or an inactive one gets no session", async () => {
    const inactive = await passwordUser();
    await pool.query(sql.unsafe`UPDATE users SET status = 'inactive' WHERE id = ${inactive.id}`);
    expect((await login({ email: inactive.email, password }, nextIp())).status).toBe(403);
    expect(
      (await login({ email: inactive.email, password: "wrong password" }, nextIp())).status,
    ).toBe(401);
    const locked = await passwordUser();
    await pool.query(sql.unsafe`UPDATE users SET status = 'locked' WHERE id = ${locked.id}`);
    const answer = await login({ email: locked.email, password }, nextIp());
    expect(answer.status).toBe(423);
    expect(answer.headers.get("retry-after")).toBeNull();
  });
});

describe("login rate limits", () => {
  test("30 rapid logins from one IP get 429 across two app instances sharing one database", async () => {
    const second = await startTestApp(pool, env);
    try {
      const user = await passwordUser();
      const ip = nextIp();
      const answers = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          login({ email: user.email, password: "wrong password" }, ip, i % 2 ? second : app),
        ),
      );
      const statuses = answers.map((a) => a.status);
      // RATE_LIMIT_LOGIN_IP defaults to 20 per 5 minutes, counted once for both instances.
      expect(statuses.filter((s) => s === 429)).toHaveLength(10);
      const limited = answers.find((a) => a.status === 429);
      expect(Number(limited?.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(limited?.headers.get("content-type")).toBe("application/problem+json");
      // Another client is not affected.
      expect((await login({ email: user.email, password }, nextIp(), second)).status).not.toBe(429);
      const audited = await pool.anyFirst(sql.unsafe`
        SELECT failure_reason FROM audit_events WHERE event_type = 'rate_limited'
          AND host(ip) = ${ip}`);
      expect(audited).toEqual(["login_ip"]);
    } finally {
      await second.close();
    }
  });

  test("IPv6 clients are counted per /64", async () => {
    expect(clientNetwork("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(clientNetwork("2001:0db8:0001:0002:ffff:ffff:ffff:ffff")).toBe("2001:db8:1:2::/64");
    expect(clientNetwork("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(clientNetwork("::1")).toBe("0:0:0:0::/64");
    expect(clientNetwork("198.51.100.7")).toBe("198.51.100.7");
    const statuses = [];
    for (let i = 1; i <= 21; i++) {
      const answer = await login(
        { email: `v6-${i}@example.com`, password: "wrong password" },
        `2001:db8:77:1:${i.toString(16)}::${i}`,
      );
      statuses.push(answer.status);
    }
    expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(statuses[20]).toBe(429);
  });

  test("the per-account limit is keyed on the user, whatever the address spelling or client", async () => {
    const strict = await startTestApp(pool, { ...env, RATE_LIMIT_LOGIN_ACCOUNT: "3/5m" });
    try {
      const user = await passwordUser();
      const spellings = [user.email, user.email?.toUpperCase(), ` ${user.email}`];
      for (const email of spellings) {
        expect((await login({ email, password: "wrong password" }, nextIp(), strict)).status).toBe(
          401,
        );
      }
      const refused = await login({ email: user.email, password }, nextIp(), strict);
      expect(refused.status).toBe(429);
      expect(refused.headers.get("retry-after")).not.toBeNull();
    } finally {
      await strict.close();
    }
  });

  test("an unknown email reaches the per-account limit like a known one", async () => {
    const strict = await startTestApp(pool, { ...env, RATE_LIMIT_LOGIN_ACCOUNT: "2/5m" });
    try {
      const user = await passwordUser();
      for (const email of [user.email, "ghost@example.com"]) {
        const statuses = [];
        for (let i = 0; i < 3; i++) {
          statuses.push(
            (await login({ email, password: "wrong password" }, nextIp(), strict)).status,
          );
        }
        expect(statuses).toEqual([401, 401, 429]);
      }
    } finally {
      await strict.close();
    }
  });

  test("the domain function applies the same limits to any caller (the token grant)", async () => {
    const config = parseConfig({
      NODE_ENV: "test",
      DATABASE_URL: "postgres://unused",
      RATE_LIMIT_LOGIN_ACCOUNT: "2/5m",
    });
    const user = await passwordUser();
    const deps = { config, pool, logger: testLogger, rateLimitStore: postgresRateLimitStore(pool) };
    const attempt = (ip: string) =>
      verifyPasswordLogin(deps, {
        email: user.email ?? "",
        password: "nope nope",
        ip,
        method: "token",
      })
        .then(() => 200)
        .catch(answeredStatus);
    expect(await attempt(nextIp())).toBe(401);
    expect(await attempt(nextIp())).toBe(401);
    expect(await attempt(nextIp())).toBe(429);
  });
});

describe("verifyPasswordLogin options and reasons", () => {
  const config = parseConfig({ NODE_ENV: "test", DATABASE_URL: "postgres://unused" });
  const deps = { config, pool, logger: testLogger, rateLimitStore: postgresRateLimitStore(pool) };
  const statusOf = (promise: Promise<unknown>) => promise.then(() => 200).catch(answeredStatus);
  const reasonsOf = async (userId: string) =>
    (await auditOf(userId)).map((e) => `${e.event_type}:${e.failure_reason ?? ""}`);

  test("requireVerifiedEmail refuses an unverified account, after the password, with 403", async () => {
    const user = await insertUser(pool, {
      email: `unverified${++counter}@example.com`,
      emailVerified: false,
      passwordHash: await hashPassword(password, config.passwords),
    });
    const email = user.email ?? "";
    const input = { email, password, ip: nextIp(), requireVerifiedEmail: true };
    expect(await statusOf(verifyPasswordLogin(deps, input))).toBe(403);
    expect(await statusOf(verifyPasswordLogin(deps, { ...input, password: "wrong one" }))).toBe(
      401,
    );
    // Without the option, the right password signs in (through the route, which completes it).
    expect((await login({ email, password }, nextIp())).status).toBe(200);
    expect(await reasonsOf(user.id)).toEqual([
      "login.failed:unverified",
      "login.failed:bad_password",
      "login.succeeded:",
    ]);
  });

  test("an account without a password answers like an unknown one", async () => {
    const user = await insertUser(pool, {
      email: `nopassword${++counter}@example.com`,
      emailVerified: true,
      passwordHash: await hashPassword(password, config.passwords),
    });
    await pool.query(sql.unsafe`
      INSERT INTO oauth_accounts (user_id, provider, provider_user_id) VALUES (${user.id}, 'github', ${user.id})`);
    await pool.query(sql.unsafe`UPDATE users SET password_hash = NULL WHERE id = ${user.id}`);
    const input = { email: user.email ?? "", password, ip: nextIp() };
    expect(await statusOf(verifyPasswordLogin(deps, input))).toBe(401);
    expect(await reasonsOf(user.id)).toEqual(["login.failed:no_password"]);
  });

  test("checking a password records no success: completing the sign-in does, once", async () => {
    const user = await passwordUser();
    const input = { email: user.email ?? "", password, ip: nextIp() };
    expect(await statusOf(verifyPasswordLogin(deps, input))).toBe(200);
    expect(await reasonsOf(user.id)).toEqual([]);
    expect((await login(input, nextIp())).status).toBe(200);
    expect(await reasonsOf(user.id)).toEqual(["login.succeeded:"]);
  });
});

test("the domain function answers unstorable addresses like unknown ones (no 5xx from a second caller)", async () => {
  const config = parseConfig({ NODE_ENV: "test", DATABASE_URL: "postgres://unused" });
  const deps = { config, pool, logger: testLogger, rateLimitStore: postgresRateLimitStore(pool) };
  for (const email of [
    "nul\u0000@example.com",
    "\ud800@example.com",
    `${"x".repeat(400)}@example.com`,
  ]) {
    const status = await verifyPasswordLogin(deps, {
      email,
      password: "whatever pass",
      ip: nextIp(),
    })
      .then(() => 200)
      .catch(answeredStatus);
    expect(status).toBe(401);
  }
});
