import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "slonik";
import { z } from "zod";
import { findBearerSubjects } from "../sql/revoked-access-tokens.ts";
import { setUserState } from "../sql/users.ts";
import { createDatabasePool } from "../src/db/pool.ts";
import { sessionCookieName } from "../src/http/session-cookie.ts";
import { createLogger } from "../src/logger.ts";
import { hashSecret, invalidateSession, sessionLookup } from "../src/sessions/sessions.ts";
import { startTestApp, type TestApp } from "./support/app.ts";
import { createTestDatabase } from "./support/database.ts";
import { signedInUser } from "./support/sign-in.ts";

// GET /auth/verify through real HTTP. The test client is the "proxy": an app
// that trusts 127.0.0.1 believes its X-Forwarded-* headers, the default app
// believes none. Each advisory lesson in SPEC has its own test below.

const db = await createTestDatabase();
const { pool } = db;
const html = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

let untrusting: TestApp; // TRUST_PROXY_HOPS=0, no TRUSTED_PROXIES: the default
let behindProxy: TestApp; // TRUSTED_PROXIES=127.0.0.1: the test client is the proxy
let elsewhereProxy: TestApp; // TRUSTED_PROXIES names another network
const publicUrl = "https://auth.example.com";
const domainEnv = {
  PUBLIC_URL: publicUrl,
  COOKIE_DOMAIN: ".example.com",
  ALLOWED_REDIRECT_ORIGINS: "https://partner.example.org",
};

beforeAll(async () => {
  untrusting = await startTestApp(pool, domainEnv);
  behindProxy = await startTestApp(pool, { ...domainEnv, TRUSTED_PROXIES: "127.0.0.1,::1" });
  elsewhereProxy = await startTestApp(pool, { ...domainEnv, TRUSTED_PROXIES: "10.0.0.0/8" });
});
afterAll(async () => {
  await Promise.all([untrusting.close(), behindProxy.close(), elsewhereProxy.close()]);
  await db.drop();
});

function forwarded(host: string, uri: string, proto = "https"): Record<string, string> {
  return {
    "x-forwarded-method": "GET",
    "x-forwarded-proto": proto,
    "x-forwarded-host": host,
    "x-forwarded-uri": uri,
  };
}

/** A pool whose slow-query threshold is 0, so it logs every statement it runs into `statements`. */
function countingPool(statements: string[]) {
  return createDatabasePool({
    url: db.url,
    minPoolSize: 0,
    maxPoolSize: 2,
    connectionTimeoutMs: 5000,
    statementTimeoutMs: 30000,
    slowQueryMs: 0,
    logger: createLogger("warn", {
      write: (line: string) => {
        statements.push((JSON.parse(line) as { sql: string }).sql);
      },
    }),
  });
}

const verify = (app: TestApp, headers: Record<string, string>, query = "") =>
  app.request(`/auth/verify${query}`, { headers, redirect: "manual" });

function redirectTo(response: Response): string | null {
  const location = response.headers.get("location");
  if (!location) return null;
  return new URL(location).searchParams.get("redirect_to");
}

describe("forward-auth answers", () => {
  test("a whitelisted active user gets 200 with X-Auth-User-Id, -Email, -Role and -Name", async () => {
    const { user, cookie } = await signedInUser(pool, behindProxy.config, {
      isWhitelisted: true,
      fullName: "Ada Lovelace",
    });
    const response = await verify(behindProxy, { cookie, ...forwarded("app.example.com", "/") });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-auth-user-id")).toBe(user.id);
    expect(response.headers.get("x-auth-email")).toBe(user.email);
    expect(response.headers.get("x-auth-role")).toBe("user");
    expect(response.headers.get("x-auth-name")).toBe("Ada Lovelace");
    expect(response.headers.get("cache-control")).toBe("no-store");
  });

  test("a name outside ASCII travels as UTF-8 bytes and a control character cannot split a header", async () => {
    const { cookie } = await signedInUser(pool, behindProxy.config, {
      isWhitelisted: true,
      fullName: "李雷\r\nX-Auth-Role: admin",
    });
    const response = await verify(behindProxy, { cookie });
    expect(response.status).toBe(200);
    const raw = response.headers.get("x-auth-name") ?? "";
    expect(Buffer.from(raw, "latin1").toString("utf8")).toBe("李雷  X-Auth-Role: admin");
    expect(response.headers.get("x-auth-role")).toBe("user");
  });

  test("no session is 401 with the sign-in page in Location, for an API client", async () => {
    const response = await verify(behindProxy, {
      accept: "application/json",
      ...forwarded("app.example.com", "/api/items"),
    });
    expect(response.status).toBe(401);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(response.headers.get("location")).toStartWith(`${publicUrl}/?redirect_to=`);
  });

  test("an unknown or forged cookie is 401 like no cookie", async () => {
    const name = sessionCookieName(behindProxy.config);
    for (const cookie of [`${name}=${"A".repeat(43)}`, `${name}=not-even-base64`]) {
      expect((await verify(behindProxy, { cookie })).status).toBe(401);
    }
  });

  test("a browser asking for a page is sent to the sign-in page with redirect_to the original URL", async () => {
    const response = await verify(behindProxy, {
      accept: html,
      ...forwarded("app.example.com", "/reports/2026?q=a%20b&x=1"),
    });
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toStartWith(`${publicUrl}/?redirect_to=`);
    expect(redirectTo(response)).toBe("https://app.example.com/reports/2026?q=a%20b&x=1");
  });

  test("mode=401 answers 401 to a browser too, with the same Location for nginx to use", async () => {
    const response = await verify(
      behindProxy,
      { accept: html, ...forwarded("app.example.com", "/x") },
      "?mode=401",
    );
    expect(response.status).toBe(401);
    expect(redirectTo(response)).toBe("https://app.example.com/x");
  });

  test("a browser's form POST is 401, not a redirect that would lose its body", async () => {
    const response = await verify(behindProxy, {
      accept: html,
      ...forwarded("app.example.com", "/form"),
      "x-forwarded-method": "POST",
    });
    expect(response.status).toBe(401);
  });

  test("nginx's X-Original-URL names the original request", async () => {
    const response = await verify(behindProxy, {
      accept: html,
      "x-original-url": "https://App.Example.com./a//b/../c?d=1",
    });
    expect(response.status).toBe(302);
    expect(redirectTo(response)).toBe("https://app.example.com/a/c?d=1");
  });

  test("a pending user (signed in, not whitelisted) is 403", async () => {
    const { cookie } = await signedInUser(pool, behindProxy.config, { isWhitelisted: false });
    const response = await verify(behindProxy, { cookie, accept: html });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { type: string }).type).toBe(
      "urn:gatehouse:problem:not-approved",
    );
    expect(response.headers.get("x-auth-user-id")).toBeNull();
  });

  test("an inactive or locked user is 403 even when whitelisted", async () => {
    for (const status of ["inactive", "locked"] as const) {
      const { user, cookie } = await signedInUser(pool, behindProxy.config, {
        isWhitelisted: true,
      });
      await setUserState(pool, user.id, { status });
      const response = await verify(behindProxy, { cookie });
      expect(response.status).toBe(403);
      expect(((await response.json()) as { detail: string }).detail).toContain(status);
    }
  });

  test("role=admin lets an admin through and refuses an approved user with 403", async () => {
    const admin = await signedInUser(pool, behindProxy.config, {
      isWhitelisted: true,
      role: "admin",
    });
    const member = await signedInUser(pool, behindProxy.config, { isWhitelisted: true });
    const asAdmin = await verify(behindProxy, { cookie: admin.cookie }, "?role=admin");
    expect(asAdmin.status).toBe(200);
    expect(asAdmin.headers.get("x-auth-role")).toBe("admin");
    const asMember = await verify(behindProxy, { cookie: member.cookie }, "?role=admin");
    expect(asMember.status).toBe(403);
    expect(((await asMember.json()) as { type: string }).type).toBe(
      "urn:gatehouse:problem:requirement-not-met",
    );
    expect((await verify(behindProxy, { cookie: member.cookie }, "?role=user")).status).toBe(200);
  });

  test("group= is met by any listed group; a user's groups are their role", async () => {
    const member = await signedInUser(pool, behindProxy.config, { isWhitelisted: true });
    const admin = await signedInUser(pool, behindProxy.config, {
      isWhitelisted: true,
      role: "admin",
    });
    expect((await verify(behindProxy, { cookie: member.cookie }, "?group=admin")).status).toBe(403);
    expect((await verify(behindProxy, { cookie: member.cookie }, "?group=ops,user")).status).toBe(
      200,
    );
    expect((await verify(behindProxy, { cookie: admin.cookie }, "?group=admin")).status).toBe(200);
    expect((await verify(behindProxy, { cookie: admin.cookie }, "?group=engineering")).status).toBe(
      403,
    );
  });

  test("an unknown role or malformed group is a 400 problem (fail closed), not a pass", async () => {
    const admin = await signedInUser(pool, behindProxy.config, {
      isWhitelisted: true,
      role: "admin",
    });
    for (const query of ["?role=root", "?group=a;b", "?mode=200"]) {
      const response = await verify(behindProxy, { cookie: admin.cookie }, query);
      expect(response.status).toBe(400);
    }
  });
});

describe("forward-auth with bearer tokens", () => {
  async function accessTokenOf(cookie: string): Promise<string> {
    const response = await behindProxy.request("/auth/token/session", {
      method: "POST",
      headers: { cookie, origin: publicUrl },
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { access_token: string }).access_token;
  }

  test("an approved user's access token passes with the same X-Auth-* headers", async () => {
    const { user, cookie } = await signedInUser(pool, behindProxy.config, {
      isWhitelisted: true,
      fullName: "Token Holder",
    });
    const token = await accessTokenOf(cookie);
    const response = await verify(behindProxy, { authorization: `Bearer ${token}` });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-auth-user-id")).toBe(user.id);
    expect(response.headers.get("x-auth-email")).toBe(user.email);
    expect(response.headers.get("x-auth-name")).toBe("Token Holder");
  });

  test("a pending user's token is 403; a forged token is 401 even with a good cookie", async () => {
    const { cookie } = await signedInUser(pool, behindProxy.config, { isWhitelisted: false });
    const token = await accessTokenOf(cookie);
    expect((await verify(behindProxy, { authorization: `Bearer ${token}` })).status).toBe(403);
    const forged = `${token.slice(0, -4)}AAAA`;
    const withForged = await verify(behindProxy, { authorization: `Bearer ${forged}`, cookie });
    expect(withForged.status).toBe(401);
  });

  test("a token of a user who is no longer active stops at authentication: 401", async () => {
    // Bearer tokens are cut off with the account (issue 6's bearer check reads
    // users.status), where a cookie session of such a user still gets 403.
    const { user, cookie } = await signedInUser(pool, behindProxy.config, { isWhitelisted: true });
    const token = await accessTokenOf(cookie);
    await setUserState(pool, user.id, { status: "inactive" });
    expect((await verify(behindProxy, { authorization: `Bearer ${token}` })).status).toBe(401);
  });

  test("checks of many tokens at once each get their own user, and a cut-off one among them is refused", async () => {
    const holders = await Promise.all(
      Array.from({ length: 12 }, async () => {
        const signedIn = await signedInUser(pool, behindProxy.config, { isWhitelisted: true });
        return { ...signedIn, token: await accessTokenOf(signedIn.cookie) };
      }),
    );
    const cutOff = holders[5] as (typeof holders)[number];
    await setUserState(pool, cutOff.user.id, { status: "inactive" });
    const answers = await Promise.all(
      holders.map(({ token }) => verify(behindProxy, { authorization: `Bearer ${token}` })),
    );
    answers.forEach((response, i) => {
      const { user } = holders[i] as (typeof holders)[number];
      if (user.id === cutOff.user.id) expect(response.status).toBe(401);
      else expect(response.headers.get("x-auth-user-id")).toBe(user.id);
    });
  });

  test("the subjects of many tokens are one statement, each found at its token's position", async () => {
    const holders = await Promise.all(
      Array.from({ length: 3 }, () =>
        signedInUser(pool, behindProxy.config, { isWhitelisted: true }),
      ),
    );
    const tokens = holders.map(({ user, sessionId }, i) => ({
      userId: user.id,
      sessionId,
      jti: `batch-${crypto.randomUUID()}-${i}`,
      issuedAt: new Date(),
    }));
    await invalidateSession(pool, holders[1]?.sessionId as string, "logout");
    const found = await findBearerSubjects(pool, tokens);
    const byPosition = new Map(found.map(({ n, user_id }) => [n, user_id]));
    expect([...byPosition].sort(([a], [b]) => a - b)).toEqual([
      [1, holders[0]?.user.id as string],
      [3, holders[2]?.user.id as string],
    ]);
  });

  test("a browser page load with a bad token is still sent to sign in, never let through", async () => {
    const response = await verify(behindProxy, {
      authorization: "Bearer not.a.token",
      accept: html,
      ...forwarded("app.example.com", "/p"),
    });
    expect(response.status).toBe(302);
  });
});

describe("advisory lessons: nothing about the original request skips the check", () => {
  test("X-Forwarded-* from a peer that is not a trusted proxy are ignored (default: trust none)", async () => {
    const spoofed = { accept: html, ...forwarded("app.example.com", "/phish") };
    for (const app of [untrusting, elsewhereProxy]) {
      const response = await verify(app, spoofed);
      expect(response.status).toBe(302);
      expect(response.headers.get("location")).toBe(`${publicUrl}/`);
    }
    // The same headers from the trusted proxy are believed.
    expect(redirectTo(await verify(behindProxy, spoofed))).toBe("https://app.example.com/phish");
  });

  test("spoofed forwarded headers never turn a refusal into a pass", async () => {
    const pending = await signedInUser(pool, untrusting.config, { isWhitelisted: false });
    const headers = {
      ...forwarded("auth.example.com", "/healthz"),
      "x-original-url": "https://auth.example.com/healthz",
      "x-forwarded-for": "127.0.0.1",
      "x-real-ip": "127.0.0.1",
      "x-auth-user-id": "00000000-0000-0000-0000-000000000000",
    };
    for (const app of [untrusting, behindProxy]) {
      expect((await verify(app, headers)).status).toBe(401);
      expect((await verify(app, { ...headers, cookie: pending.cookie })).status).toBe(403);
    }
  });

  test("a `#` or a query string in the URI changes nothing but the redirect, which drops the fragment", async () => {
    for (const uri of [
      "/admin#/../public",
      "/public?/../admin",
      "/admin?redirect=/public#x",
      "/%2e%2e/admin",
    ]) {
      const response = await verify(behindProxy, {
        accept: html,
        ...forwarded("app.example.com", uri),
      });
      expect(response.status).toBe(302);
      const back = new URL(redirectTo(response) ?? "");
      expect(back.hash).toBe("");
      expect(back.origin).toBe("https://app.example.com");
    }
    const r = await verify(behindProxy, {
      accept: html,
      ...forwarded("app.example.com", "/admin#/../public"),
    });
    expect(redirectTo(r)).toBe("https://app.example.com/admin");
  });

  test("`//` paths are collapsed and cannot name another host in redirect_to", async () => {
    for (const uri of ["//evil.example/x", "/\\evil.example/x", "///evil.example//x"]) {
      const response = await verify(behindProxy, {
        accept: html,
        ...forwarded("app.example.com", uri),
      });
      expect(response.status).toBe(302);
      expect(redirectTo(response)).toBe("https://app.example.com/evil.example/x");
    }
  });

  test("host case and trailing dots are canonicalised before the redirect rule", async () => {
    for (const host of ["APP.Example.COM", "app.example.com.", "App.Example.Com.."]) {
      const response = await verify(behindProxy, { accept: html, ...forwarded(host, "/p") });
      expect(redirectTo(response)).toBe("https://app.example.com/p");
    }
    // A look-alike outside COOKIE_DOMAIN is not a redirect target in any spelling.
    for (const host of ["example.com.evil.example", "EVIL.example.", "example.com@evil.example"]) {
      const response = await verify(behindProxy, { accept: html, ...forwarded(host, "/p") });
      expect(response.status).toBe(302);
      expect(response.headers.get("location")).toBe(`${publicUrl}/`);
    }
  });

  test("ambiguous descriptions of the original request count as unknown, never as a target", async () => {
    const ambiguous: Record<string, string>[] = [
      forwarded("app.example.com, evil.example", "/p"), // two proxies' worth of hosts
      forwarded("app.example.com", "https://evil.example/p"), // absolute-form URI
      forwarded("app.example.com", "p"),
      forwarded("app.example.com", "/p", "javascript"),
      forwarded("user@app.example.com", "/p"),
      forwarded("app.example.com/evil", "/p"),
      { "x-original-url": "https://app.example.com@evil.example/p" },
      { "x-original-url": "//app.example.com/p" },
    ];
    for (const headers of ambiguous) {
      const response = await verify(behindProxy, { accept: html, ...headers });
      expect(response.status).toBe(302);
      expect(response.headers.get("location")).toBe(`${publicUrl}/`);
    }
  });

  test("X-Original-URL and X-Forwarded-* that disagree (one is the client's) give no redirect_to", async () => {
    const disagreeing = await verify(behindProxy, {
      accept: html,
      ...forwarded("app.example.com", "/real"),
      "x-original-url": "https://other.example.com/chosen",
    });
    expect(disagreeing.status).toBe(302);
    expect(disagreeing.headers.get("location")).toBe(`${publicUrl}/`);
    const agreeing = await verify(behindProxy, {
      accept: html,
      ...forwarded("App.example.com", "/real"),
      "x-original-url": "https://app.example.com/real",
    });
    expect(redirectTo(agreeing)).toBe("https://app.example.com/real");
  });

  test("TRUST_PROXY_HOPS > 0 without TRUSTED_PROXIES believes the connecting proxy", async () => {
    const hops = await startTestApp(pool, { ...domainEnv, TRUST_PROXY_HOPS: "1" });
    try {
      const response = await verify(hops, { accept: html, ...forwarded("app.example.com", "/h") });
      expect(redirectTo(response)).toBe("https://app.example.com/h");
    } finally {
      await hops.close();
    }
  });

  test("redirect targets: COOKIE_DOMAIN hosts on PUBLIC_URL's scheme and ALLOWED_REDIRECT_ORIGINS only", async () => {
    const cases: [string, string, string | null][] = [
      ["https", "example.com", "https://example.com/p"],
      ["https", "deep.app.example.com:8443", "https://deep.app.example.com:8443/p"],
      ["http", "app.example.com", null], // a downgrade is no target
      ["https", "partner.example.org", "https://partner.example.org/p"],
      ["https", "other.example.org", null],
      ["https", "notexample.com", null],
    ];
    for (const [proto, host, expected] of cases) {
      const response = await verify(behindProxy, { accept: html, ...forwarded(host, "/p", proto) });
      expect(response.status).toBe(302);
      expect(redirectTo(response)).toBe(expected);
    }
  });

  test("a health-check or crawler user agent gets no bypass", async () => {
    const pending = await signedInUser(pool, behindProxy.config, { isWhitelisted: false });
    for (const agent of [
      "kube-probe/1.30",
      "ELB-HealthChecker/2.0",
      "GoogleHC/1.0",
      "Consul Health Check",
      "Pingdom.com_bot_version_1.4",
      "Traefik",
      "",
    ]) {
      expect((await verify(behindProxy, { "user-agent": agent })).status).toBe(401);
      expect(
        (await verify(behindProxy, { "user-agent": agent, cookie: pending.cookie })).status,
      ).toBe(403);
    }
  });

  test("forward paths that look like public routes are checked like any other", async () => {
    for (const uri of ["/healthz", "/readyz", "/metrics", "/auth/verify", "/favicon.ico", "/"]) {
      const response = await verify(behindProxy, forwarded("app.example.com", uri));
      expect(response.status).toBe(401);
    }
  });
});

describe("the hot path", () => {
  test("checks of many sessions at once each get their own user, and a revoked one among them is refused", async () => {
    const signedIn = await Promise.all(
      Array.from({ length: 24 }, () =>
        signedInUser(pool, behindProxy.config, { isWhitelisted: true }),
      ),
    );
    const revoked = signedIn[7] as (typeof signedIn)[number];
    await invalidateSession(pool, revoked.sessionId, "logout");
    const answers = await Promise.all(
      signedIn.map(({ cookie }) => verify(behindProxy, { cookie, ...forwarded("a.example", "/") })),
    );
    answers.forEach((response, i) => {
      const { user, sessionId } = signedIn[i] as (typeof signedIn)[number];
      if (sessionId === revoked.sessionId) expect(response.status).toBe(401);
      else expect(response.headers.get("x-auth-user-id")).toBe(user.id);
    });
  });

  test("session checks made at the same moment are one statement", async () => {
    const statements: string[] = [];
    const counting = await countingPool(statements);
    try {
      const signedIn = await Promise.all(
        Array.from({ length: 10 }, () =>
          signedInUser(pool, behindProxy.config, { isWhitelisted: true }),
        ),
      );
      const lookup = sessionLookup(counting);
      const hashes = signedIn.map(({ cookie }) => {
        const digest = hashSecret(cookie.slice(cookie.indexOf("=") + 1));
        return { digest, key: digest.toString("base64") };
      });
      const again = { ...(hashes[0] as (typeof hashes)[number]) };
      const found = await Promise.all([...hashes, again].map(lookup));
      expect(found.map((row) => row?.user_id)).toEqual([
        ...signedIn.map(({ user }) => user.id),
        signedIn[0]?.user.id,
      ]);
      expect(statements).toHaveLength(1);
    } finally {
      await counting.end();
    }
  });

  test("a passing check is one query, writes nothing and records no audit event", async () => {
    const statements: string[] = [];
    const counting = await countingPool(statements);
    const app = await startTestApp(counting, { TRUSTED_PROXIES: "127.0.0.1" });
    try {
      const { sessionId, cookie } = await signedInUser(pool, app.config, { isWhitelisted: true });
      // A session used within the last minute is not touched again.
      const lastSeen = () =>
        pool.oneFirst(
          sql.type(z.object({ t: z.string() }))`
            SELECT last_seen_at::text AS t FROM sessions WHERE id = ${sessionId}`,
        );
      const auditCount = () =>
        pool.oneFirst(
          sql.type(z.object({ n: z.number() }))`SELECT count(*)::int AS n FROM audit_events`,
        );
      const [seenBefore, auditsBefore] = [await lastSeen(), await auditCount()];
      statements.length = 0;
      for (let i = 0; i < 20; i++) {
        const response = await verify(app, { cookie, ...forwarded("app.example.com", `/${i}`) });
        expect(response.status).toBe(200);
      }
      expect(statements).toHaveLength(20);
      expect(statements.every((s) => /^\s*SELECT/.test(s))).toBe(true);
      expect(await lastSeen()).toBe(seenBefore);
      expect(await auditCount()).toBe(auditsBefore);

      statements.length = 0;
      expect((await verify(app, {})).status).toBe(401);
      expect(statements).toHaveLength(0); // no cookie: no query at all
    } finally {
      await app.close();
      await counting.end();
    }
  });
});
