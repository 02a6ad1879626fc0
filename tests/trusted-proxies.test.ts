import { afterAll, describe, expect, test } from "bun:test";
import { ConfigError, parseConfig } from "../src/config/index.ts";
import { clientIpOf } from "../src/http/client-ip.ts";
import { safeRedirectTarget } from "../src/http/redirect-target.ts";
import { proxyTrust } from "../src/http/trusted-proxies.ts";
import { startTestApp, type TestApp } from "./support/app.ts";
import { createTestDatabase } from "./support/database.ts";
import { signedInUser } from "./support/sign-in.ts";

const db = await createTestDatabase();
const apps: TestApp[] = [];
afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
  await db.drop();
});

const base = { NODE_ENV: "test", DATABASE_URL: "postgres://unused" };

/** An app with a route that answers the client address the middleware settled on. */
async function ipApp(env: Record<string, string>) {
  const app = await startTestApp(db.pool, env, (a) =>
    a.get("/test/client-ip", (c) => c.text(clientIpOf(c) ?? "unknown")),
  );
  apps.push(app);
  return (xff?: string) =>
    app
      .request("/test/client-ip", { headers: xff ? { "x-forwarded-for": xff } : {} })
      .then((r) => r.text());
}

describe("TRUSTED_PROXIES and COOKIE_DOMAIN configuration", () => {
  test("TRUSTED_PROXIES takes addresses and CIDR ranges, IPv4 and IPv6", () => {
    const config = parseConfig({ ...base, TRUSTED_PROXIES: "10.0.0.0/8, 192.168.1.7,fd00::/8" });
    expect(config.http.TRUSTED_PROXIES).toEqual([
      { network: "10.0.0.0", prefix: 8, family: "ipv4" },
      { network: "192.168.1.7", prefix: 32, family: "ipv4" },
      { network: "fd00::", prefix: 8, family: "ipv6" },
    ]);
    const trusted = proxyTrust(config.http);
    expect(trusted("10.1.2.3")).toBe(true);
    expect(trusted("::ffff:10.1.2.3")).toBe(true);
    expect(trusted("192.168.1.8")).toBe(false);
    expect(trusted("fd12::1")).toBe(true);
    expect(trusted(null)).toBe(false);
  });

  test("a malformed TRUSTED_PROXIES entry stops the start with the variable named", () => {
    for (const value of ["10.0.0.0/33", "proxy.internal", "::1/129", "1.2.3.4/8/8", "1.2.3.4/x"]) {
      expect(() => parseConfig({ ...base, TRUSTED_PROXIES: value })).toThrow(
        /^TRUSTED_PROXIES: expected IP addresses or CIDR ranges/,
      );
    }
  });

  test("without TRUSTED_PROXIES, only TRUST_PROXY_HOPS > 0 trusts the peer", () => {
    expect(proxyTrust(parseConfig(base).http)("127.0.0.1")).toBe(false);
    expect(proxyTrust(parseConfig({ ...base, TRUST_PROXY_HOPS: "1" }).http)("203.0.113.9")).toBe(
      true,
    );
  });

  test("COOKIE_DOMAIN is kept without its leading dot and must cover PUBLIC_URL's host", () => {
    const config = parseConfig({
      ...base,
      PUBLIC_URL: "https://auth.Example.com",
      COOKIE_DOMAIN: ".Example.COM",
    });
    expect(config.http.COOKIE_DOMAIN).toBe("example.com");
    expect(() =>
      parseConfig({
        ...base,
        PUBLIC_URL: "https://auth.example.org",
        COOKIE_DOMAIN: ".example.com",
      }),
    ).toThrow(ConfigError);
    expect(() => parseConfig({ ...base, COOKIE_DOMAIN: "exa mple.com" })).toThrow(
      /^COOKIE_DOMAIN: expected a domain name/,
    );
  });

  test("safeRedirectTarget keeps our paths and allowed origins and turns the rest into /", () => {
    const config = parseConfig({
      ...base,
      PUBLIC_URL: "https://auth.example.com",
      COOKIE_DOMAIN: ".example.com",
      ALLOWED_REDIRECT_ORIGINS: "https://partner.example.org",
    });
    const cases: [string | undefined, string][] = [
      [undefined, "/"],
      ["/admin?x=1", "/admin?x=1"],
      ["https://auth.example.com/me", "/me"],
      ["https://app.example.com/x", "https://app.example.com/x"],
      ["https://partner.example.org/y", "https://partner.example.org/y"],
      ["//evil.example/x", "/"],
      ["/\\evil.example", "/"],
      ["https://evil.example", "/"],
      ["http://app.example.com/x", "/"],
      ["https://user:pw@app.example.com/", "/"],
      ["javascript:alert(1)", "/"],
    ];
    for (const [value, expected] of cases) {
      expect(safeRedirectTarget(value, config.http)).toBe(expected);
    }
  });
});

describe("client address through TRUSTED_PROXIES", () => {
  test("the client is the rightmost X-Forwarded-For entry that is not a trusted proxy", async () => {
    const ip = await ipApp({ TRUSTED_PROXIES: "127.0.0.1,10.0.0.0/8" });
    expect(await ip()).toBe("127.0.0.1");
    expect(await ip("198.51.100.7")).toBe("198.51.100.7");
    expect(await ip("6.6.6.6, 198.51.100.7, 10.0.0.2")).toBe("198.51.100.7");
  });

  test("a peer that is not a trusted proxy is the client, whatever X-Forwarded-For says", async () => {
    const ip = await ipApp({ TRUSTED_PROXIES: "10.0.0.0/8", TRUST_PROXY_HOPS: "1" });
    expect(await ip("198.51.100.7")).toBe("127.0.0.1");
  });

  test("TRUST_PROXY_HOPS alone keeps counting hops", async () => {
    const ip = await ipApp({ TRUST_PROXY_HOPS: "1" });
    expect(await ip("6.6.6.6, 198.51.100.7")).toBe("198.51.100.7");
    const none = await ipApp({});
    expect(await none("198.51.100.7")).toBe("127.0.0.1");
  });
});

describe("one sign-in for every app under COOKIE_DOMAIN", () => {
  test("with https and COOKIE_DOMAIN the cookie is __Secure- prefixed and carries Domain", async () => {
    const app = await startTestApp(db.pool, {
      PUBLIC_URL: "https://auth.example.com",
      COOKIE_DOMAIN: ".example.com",
    });
    apps.push(app);
    const { cookie } = await signedInUser(db.pool, app.config, { isWhitelisted: true });
    expect(cookie).toStartWith("__Secure-gatehouse_session=");
    const response = await app.request("/auth/logout", {
      method: "POST",
      headers: { cookie, origin: "https://auth.example.com" },
    });
    expect(response.status).toBe(204);
    const setCookie = response.headers.get("set-cookie") ?? "";
    expect(setCookie).toStartWith("__Secure-gatehouse_session=");
    expect(setCookie).toContain("Domain=example.com");
    expect(setCookie).toContain("Secure");
  });

  test("without COOKIE_DOMAIN an https cookie is __Host- prefixed with no Domain", async () => {
    const app = await startTestApp(db.pool, { PUBLIC_URL: "https://auth.example.com" });
    apps.push(app);
    const { cookie } = await signedInUser(db.pool, app.config, { isWhitelisted: true });
    const response = await app.request("/auth/logout", {
      method: "POST",
      headers: { cookie, origin: "https://auth.example.com" },
    });
    const setCookie = response.headers.get("set-cookie") ?? "";
    expect(setCookie).toStartWith("__Host-gatehouse_session=");
    expect(setCookie).not.toContain("Domain=");
  });
});
