import { afterAll, describe, expect, test } from "bun:test";
import manifest from "../package.json" with { type: "json" };
import { startTestApp } from "./support/app.ts";
import { createTestDatabase } from "./support/database.ts";
import { approvedPasswordUser, knownPassword, signedInUser } from "./support/sign-in.ts";

const db = await createTestDatabase();
const open = await startTestApp(db.pool);
const guarded = await startTestApp(db.pool, { METRICS_TOKEN: "scrape-secret-123" });
const cached = await startTestApp(db.pool, { AUTH_CACHE_TTL: "10s" });
afterAll(async () => {
  await open.close();
  await guarded.close();
  await cached.close();
  await db.drop();
});

type Sample = { name: string; labels: Record<string, string>; value: number };

/**
 * A strict reader of the Prometheus text format (0.0.4): every sample line
 * must parse, and every sample must belong to a family declared by # TYPE.
 */
function parsePrometheus(text: string): Sample[] {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const type =
      /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      types.set(type[1] as string, type[2] as string);
      continue;
    }
    if (/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*$/.test(line)) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(
      line,
    );
    if (!match) throw new Error(`not Prometheus text: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1] as string] = pair[2] as string;
    }
    const name = match[1] as string;
    const family = name.replace(/_(bucket|sum|count)$/, "");
    if (!types.has(name) && !types.has(family)) throw new Error(`sample without # TYPE: ${name}`);
    samples.push({ name, labels, value: Number(match[3]) });
  }
  return samples;
}

const value = (samples: Sample[], name: string, labels: Record<string, string>) =>
  samples.find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )?.value;

/** One sample's value now (0 when the series has not appeared yet). */
const scrape = async (name: string, labels: Record<string, string> = {}) =>
  value(parsePrometheus(await (await open.request("/metrics")).text()), name, labels) ?? 0;

/** Waits for a sample to reach `wanted` (work done after the answer, such as a mail). */
async function eventually(name: string, labels: Record<string, string>, wanted: number) {
  for (let i = 0; i < 50 && (await scrape(name, labels)) < wanted; i++) await Bun.sleep(100);
  return scrape(name, labels);
}

describe("GET /metrics", () => {
  test("answers Prometheus text counting requests by route pattern and status", async () => {
    await open.request("/healthz");
    await open.request("/healthz");
    await open.request("/no/such/page/123");
    const response = await open.request("/metrics");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/plain");
    const samples = parsePrometheus(await response.text());
    expect(
      value(samples, "gatehouse_http_requests_total", { route: "/healthz", status: "200" }),
    ).toBeGreaterThanOrEqual(2);
    // Unknown paths share one series, so a URL scan cannot grow the series count.
    expect(
      value(samples, "gatehouse_http_requests_total", { route: "unmatched", status: "404" }),
    ).toBeGreaterThanOrEqual(1);
    expect(samples.some((s) => s.labels.route === "/no/such/page/123")).toBe(false);
    expect(
      value(samples, "gatehouse_http_request_duration_seconds_bucket", {
        route: "/healthz",
        le: "+Inf",
      }),
    ).toBeGreaterThanOrEqual(2);
    expect(
      value(samples, "gatehouse_db_pool_connections", { state: "idle" }),
    ).toBeGreaterThanOrEqual(0);
    expect(value(samples, "gatehouse_db_pool_connections", { state: "waiting" })).toBe(0);
  });

  test("a failed password login is counted by method and result", async () => {
    const read = async () =>
      value(
        parsePrometheus(await (await open.request("/metrics")).text()),
        "gatehouse_logins_total",
        {
          method: "password",
          result: "failure",
        },
      ) ?? 0;
    const before = await read();
    const login = await open.request("/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "nobody@example.com", password: "not the password" }),
    });
    expect(login.status).toBe(401);
    expect(await read()).toBe(before + 1);
  });

  test("a browser sign-in counts one session created, and its sign-out one revoked", async () => {
    const read = async () => {
      const samples = parsePrometheus(await (await open.request("/metrics")).text());
      return {
        created: value(samples, "gatehouse_sessions_created_total", {}) ?? 0,
        revoked: value(samples, "gatehouse_sessions_revoked_total", { reason: "logout" }) ?? 0,
      };
    };
    const password = knownPassword;
    const user = await approvedPasswordUser(db.pool, open.config);
    const before = await read();
    const login = await open.request("/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: user.email, password }),
    });
    expect(login.status).toBe(200);
    const cookie = login.headers.get("set-cookie")?.split(";")[0] ?? "";
    expect(await read()).toEqual({ created: before.created + 1, revoked: before.revoked });
    const logout = await open.request("/auth/logout", {
      method: "POST",
      headers: { cookie, origin: open.config.http.PUBLIC_URL },
    });
    expect(logout.status).toBe(204);
    expect(await read()).toEqual({ created: before.created + 1, revoked: before.revoked + 1 });
  });

  test("with METRICS_TOKEN set, no or a wrong bearer token is a 401 problem", async () => {
    const none = await guarded.request("/metrics");
    expect(none.status).toBe(401);
    expect(none.headers.get("content-type")).toBe("application/problem+json");
    expect(none.headers.get("www-authenticate")).toContain("Bearer");
    const wrong = await guarded.request("/metrics", {
      headers: { authorization: "Bearer scrape-secret-12" },
    });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).not.toContain("gatehouse_");
  });

  test("with METRICS_TOKEN set, the right bearer token gets the metrics", async () => {
    const response = await guarded.request("/metrics", {
      headers: { authorization: "Bearer scrape-secret-123" },
    });
    expect(response.status).toBe(200);
    expect(parsePrometheus(await response.text()).length).toBeGreaterThan(0);
  });

  test("the process, its event loop and the running release are measured", async () => {
    const samples = parsePrometheus(await (await open.request("/metrics")).text());
    expect(value(samples, "process_cpu_seconds_total", {})).toBeGreaterThan(0);
    expect(value(samples, "process_resident_memory_bytes", {})).toBeGreaterThan(0);
    expect(value(samples, "nodejs_eventloop_lag_seconds", {})).toBeGreaterThanOrEqual(0);
    expect(value(samples, "gatehouse_build_info", { version: manifest.version })).toBe(1);
  });

  test("forward-auth answers are counted by decision", async () => {
    const user = await signedInUser(db.pool, open.config, { isWhitelisted: true });
    const pending = await signedInUser(db.pool, open.config, { isWhitelisted: false });
    const before = {
      allowed: await scrape("gatehouse_forward_auth_decisions_total", { decision: "allowed" }),
      anonymous: await scrape("gatehouse_forward_auth_decisions_total", {
        decision: "unauthenticated",
      }),
      pending: await scrape("gatehouse_forward_auth_decisions_total", {
        decision: "pending_approval",
      }),
    };
    expect((await open.request("/auth/verify", { headers: { cookie: user.cookie } })).status).toBe(
      200,
    );
    expect((await open.request("/auth/verify")).status).toBe(401);
    const refused = await open.request("/auth/verify", { headers: { cookie: pending.cookie } });
    expect(refused.status).toBe(403);
    expect(await scrape("gatehouse_forward_auth_decisions_total", { decision: "allowed" })).toBe(
      before.allowed + 1,
    );
    expect(
      await scrape("gatehouse_forward_auth_decisions_total", { decision: "unauthenticated" }),
    ).toBe(before.anonymous + 1);
    expect(
      await scrape("gatehouse_forward_auth_decisions_total", { decision: "pending_approval" }),
    ).toBe(before.pending + 1);
  });

  test("a password sign-up is counted, and so is its confirmation mail", async () => {
    const signUps = await scrape("gatehouse_signups_total", { method: "password" });
    const kept = await scrape("gatehouse_mails_total", { result: "kept" });
    const signup = await open.request("/auth/signup", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        email: `counted-${crypto.randomUUID()}@example.com`,
        password: knownPassword,
      }),
    });
    expect(signup.status).toBe(201);
    expect(await scrape("gatehouse_signups_total", { method: "password" })).toBe(signUps + 1);
    expect(await eventually("gatehouse_mails_total", { result: "kept" }, kept + 1)).toBe(kept + 1);
  });

  test("an account locked by wrong passwords is counted once", async () => {
    const user = await approvedPasswordUser(db.pool, open.config);
    const before = await scrape("gatehouse_account_lockouts_total");
    for (let i = 0; i < open.config.limits.LOGIN_MAX_FAILURES + 1; i++) {
      const login = await open.request("/auth/login", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: user.email, password: "not the password at all" }),
      });
      expect([401, 423, 429]).toContain(login.status);
    }
    expect(await scrape("gatehouse_account_lockouts_total")).toBe(before + 1);
  });

  test("credential-cache hits and misses are counted, and whether its listener hears", async () => {
    const user = await signedInUser(db.pool, cached.config, { isWhitelisted: true });
    const read = async () => {
      const samples = parsePrometheus(await (await cached.request("/metrics")).text());
      return {
        hit: value(samples, "gatehouse_credential_cache_lookups_total", { result: "hit" }) ?? 0,
        miss: value(samples, "gatehouse_credential_cache_lookups_total", { result: "miss" }) ?? 0,
        listening: value(samples, "gatehouse_credential_cache_listening", {}),
      };
    };
    for (let i = 0; i < 50 && (await read()).listening !== 1; i++) await Bun.sleep(100);
    const before = await read();
    expect(before.listening).toBe(1);
    for (let i = 0; i < 2; i++) {
      const verify = await cached.request("/auth/verify", { headers: { cookie: user.cookie } });
      expect(verify.status).toBe(200);
    }
    const after = await read();
    expect(after.miss).toBeGreaterThanOrEqual(before.miss + 1);
    expect(after.hit).toBeGreaterThanOrEqual(before.hit + 1);
  });
});
