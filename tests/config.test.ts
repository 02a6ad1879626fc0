import { describe, expect, test } from "bun:test";
import {
  ConfigError,
  environmentSchema,
  parseConfig,
  sectionSchemas,
} from "../src/config/index.ts";
import { outboxEnabled } from "../src/mail/mailer.ts";

describe("configuration", () => {
  test("defaults make a working development config", () => {
    const config = parseConfig({});
    expect(config.http.PORT).toBe(3000);
    expect(config.http.PUBLIC_URL).toBe("http://localhost:3000");
    expect(config.database.DB_POOL_MIN).toBe(2);
    expect(config.database.DB_POOL_MAX).toBe(10);
    expect(config.database.DB_CONNECTION_TIMEOUT_MS).toBe(5000);
    expect(config.database.DB_MAX_RETRIES).toBe(3);
    expect(config.database.DB_RETRY_DELAY_MS).toBe(1000);
    expect(config.http.TRUST_PROXY_HOPS).toBe(0);
    expect(config.ops.AUDIT_RETENTION_DAYS).toBe(90);
    expect(config.session.SESSION_TTL).toBe(30 * 86_400_000);
    expect(config.tokens.ACCESS_TOKEN_TTL).toBe(10 * 60_000);
    expect(config.database.MIGRATE_ON_START).toBe(true);
  });

  test.each([
    [{ PORT: "abc" }, "PORT: expected an integer"],
    [{ PORT: "70000" }, "PORT: expected an integer <= 65535"],
    [{ DB_POOL_MAX: "0" }, "DB_POOL_MAX: expected an integer >= 1"],
    [{ DB_POOL_MIN: "20", DB_POOL_MAX: "10" }, "DB_POOL_MIN: must not be larger than DB_POOL_MAX"],
    [{ SESSION_TTL: "forever" }, "SESSION_TTL: expected a duration like 90s, 15m, 12h or 30d"],
    [{ DATABASE_URL: "mysql://localhost/db" }, "DATABASE_URL: expected a postgres:// URL"],
    [{ PUBLIC_URL: "ftp://example.com" }, "PUBLIC_URL: expected an http(s) URL"],
    [{ MIGRATE_ON_START: "maybe" }, "MIGRATE_ON_START: expected true or false"],
    [{ LOG_LEVEL: "loud" }, "LOG_LEVEL: expected fatal, error, warn, info, debug, trace or silent"],
    [
      { TOKEN_ENCRYPTION_KEYS: "k1:dG9vc2hvcnQ=" },
      "TOKEN_ENCRYPTION_KEYS: expected kid:base64 entries",
    ],
    [
      { ALLOWED_REDIRECT_ORIGINS: "not a url" },
      "ALLOWED_REDIRECT_ORIGINS: expected http(s) origins",
    ],
  ])("%p is refused with a message naming the variable", (env, message) => {
    expect(() => parseConfig(env)).toThrow(ConfigError);
    expect(() => parseConfig(env)).toThrow(message);
  });

  test("HOST defaults to this machine only outside production, every interface in production", () => {
    expect(parseConfig({}).http.HOST).toBe("127.0.0.1");
    expect(parseConfig({ NODE_ENV: "test" }).http.HOST).toBe("127.0.0.1");
    expect(parseConfig({ NODE_ENV: "production", DATABASE_URL: "postgres://db/x" }).http.HOST).toBe(
      "0.0.0.0",
    );
    expect(parseConfig({ HOST: "::" }).http.HOST).toBe("::");
  });

  test("with no settings the development outbox is on; SMTP_URL, production or DEV_OUTBOX=false turn it off", () => {
    expect(outboxEnabled(parseConfig({}))).toBe(true);
    expect(outboxEnabled(parseConfig({ SMTP_URL: "smtp://mail.example.com:587" }))).toBe(false);
    expect(outboxEnabled(parseConfig({ DEV_OUTBOX: "false" }))).toBe(false);
    expect(outboxEnabled(parseConfig({ NODE_ENV: "test" }))).toBe(false);
    expect(outboxEnabled(parseConfig({ NODE_ENV: "test", DEV_OUTBOX: "true" }))).toBe(true);
    expect(
      outboxEnabled(
        parseConfig({
          NODE_ENV: "production",
          DATABASE_URL: "postgres://db/x",
          DEV_OUTBOX: "true",
        }),
      ),
    ).toBe(false);
  });

  test("durations accept seconds, minutes, hours and days", () => {
    const config = parseConfig({
      SESSION_IDLE_TTL: "90s",
      ACCESS_TOKEN_TTL: "15m",
      REFRESH_TOKEN_TTL: "12h",
      SESSION_TTL: "7d",
    });
    expect(config.session.SESSION_IDLE_TTL).toBe(90_000);
    expect(config.tokens.ACCESS_TOKEN_TTL).toBe(900_000);
    expect(config.tokens.REFRESH_TOKEN_TTL).toBe(43_200_000);
    expect(config.session.SESSION_TTL).toBe(604_800_000);
  });

  test("encryption keys keep their order and ids; the first one encrypts", () => {
    const a = Buffer.alloc(32, 1).toString("base64");
    const b = Buffer.alloc(32, 2).toString("base64");
    const config = parseConfig({ TOKEN_ENCRYPTION_KEYS: `new:${b}, old:${a}` });
    expect(config.providers.TOKEN_ENCRYPTION_KEYS.map((k) => k.id)).toEqual(["new", "old"]);
    expect(config.providers.TOKEN_ENCRYPTION_KEYS[0]?.key).toEqual(
      new Uint8Array(Buffer.alloc(32, 2)),
    );
  });

  test("redirect origins are normalised to bare origins and PUBLIC_URL loses its trailing slash", () => {
    const config = parseConfig({
      ALLOWED_REDIRECT_ORIGINS: "https://app.example.com/some/path,http://localhost:8080",
      PUBLIC_URL: "https://auth.example.com/",
    });
    expect(config.http.ALLOWED_REDIRECT_ORIGINS).toEqual([
      "https://app.example.com",
      "http://localhost:8080",
    ]);
    expect(config.http.PUBLIC_URL).toBe("https://auth.example.com");
  });

  test.each([
    "*",
    "https://*.example.com",
    "https://app.example.com/",
    "https://app.example.com/app",
    "https://app.example.com?x=1",
    "https://user@app.example.com",
    "null",
    "app.example.com",
    "ftp://app.example.com",
  ])("CORS_ALLOWED_ORIGINS refuses %p: exact origins only", (value) => {
    const env = { CORS_ALLOWED_ORIGINS: `https://ok.example.com,${value}` };
    expect(() => parseConfig(env)).toThrow(ConfigError);
    expect(() => parseConfig(env)).toThrow(
      `CORS_ALLOWED_ORIGINS: expected exact origins such as https://app.example.com`,
    );
  });

  test("CORS origins are kept as browsers send them: lower-case host, no default port; unset is none", () => {
    expect(parseConfig({}).http.CORS_ALLOWED_ORIGINS).toEqual([]);
    const config = parseConfig({
      CORS_ALLOWED_ORIGINS: "https://App.Example.com:443, http://127.0.0.1:5173",
    });
    expect(config.http.CORS_ALLOWED_ORIGINS).toEqual([
      "https://app.example.com",
      "http://127.0.0.1:5173",
    ]);
  });

  test("every environment variable belongs to exactly one section, and the parsed config has each section", () => {
    const names = Object.values(sectionSchemas).flatMap((schema) => Object.keys(schema.shape));
    expect(names.length).toBe(new Set(names).size);
    expect(names.toSorted()).toEqual(Object.keys(environmentSchema.shape).toSorted());
    expect(Object.keys(parseConfig({})).toSorted()).toEqual(Object.keys(sectionSchemas).toSorted());
  });

  test("branding defaults to Gatehouse's name and green, with no logo or support link", () => {
    expect(parseConfig({}).branding).toEqual({
      APP_NAME: "Gatehouse",
      APP_LOGO_URL: undefined,
      APP_ACCENT_COLOR: "#1f883d",
      SUPPORT_URL: undefined,
    });
    const config = parseConfig({
      APP_NAME: " Acme Login ",
      APP_LOGO_URL: "https://cdn.example.com/logo.svg",
      APP_ACCENT_COLOR: "#C0FFEE",
      SUPPORT_URL: "https://help.example.com/",
    });
    expect(config.branding).toEqual({
      APP_NAME: "Acme Login",
      APP_LOGO_URL: "https://cdn.example.com/logo.svg",
      APP_ACCENT_COLOR: "#C0FFEE",
      SUPPORT_URL: "https://help.example.com/",
    });
  });

  test.each([
    [{ APP_NAME: "<script>" }, "APP_NAME: expected plain text"],
    [{ APP_NAME: "x".repeat(61) }, "APP_NAME: expected at most 60 characters"],
    [{ APP_ACCENT_COLOR: "green" }, "APP_ACCENT_COLOR: expected a CSS hex colour like #1f883d"],
    [{ APP_ACCENT_COLOR: "#12345" }, "APP_ACCENT_COLOR: expected a CSS hex colour"],
    [{ APP_ACCENT_COLOR: "#fff;}body{display:none" }, "APP_ACCENT_COLOR: expected a CSS hex"],
    [{ APP_LOGO_URL: "javascript:alert(1)" }, "APP_LOGO_URL: expected a URL like"],
    [{ APP_LOGO_URL: "data:image/png;base64,AAAA" }, "APP_LOGO_URL: expected a URL like"],
    [{ SUPPORT_URL: "help" }, "SUPPORT_URL: expected a URL like https://help.example.com/"],
  ])("branding %p is refused with a message naming the variable", (env, message) => {
    expect(() => parseConfig(env)).toThrow(ConfigError);
    expect(() => parseConfig(env)).toThrow(message);
  });

  test("a logo over plain http is accepted in development only", () => {
    const logo = "http://localhost:8080/logo.png";
    expect(parseConfig({ APP_LOGO_URL: logo }).branding.APP_LOGO_URL).toBe(logo);
    for (const env of [
      { NODE_ENV: "test" },
      { NODE_ENV: "production", DATABASE_URL: "postgres://db/x" },
    ]) {
      expect(() => parseConfig({ ...env, APP_LOGO_URL: logo })).toThrow(
        "APP_LOGO_URL: expected an https URL (http only in development)",
      );
    }
  });

  test("a cross-field check runs at parse time and names its variable", () => {
    expect(() =>
      parseConfig({ PUBLIC_URL: "https://auth.example.com", COOKIE_DOMAIN: "other.org" }),
    ).toThrow("COOKIE_DOMAIN: must contain PUBLIC_URL's host (auth.example.com)");
    expect(() => parseConfig({ NODE_ENV: "production" })).toThrow(
      "DATABASE_URL: required when NODE_ENV=production",
    );
  });
});
