import { isIP } from "node:net";
import { z } from "zod";
import { databaseSettingsProblem } from "./db/database-settings.ts";
import { parseDuration } from "./duration.ts";
import { parseSigningKeys } from "./keys/signing-keys.ts";
import { rateLimitSetting } from "./rate-limits/rate-limit-setting.ts";

// Every setting comes from the environment, parsed once here. A bad value
// stops the process with one line naming the variable (see formatConfigError).

const integer = (fallback: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, "expected an integer")
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, `expected an integer >= ${min}`)
        .max(max, `expected an integer <= ${max}`),
    )
    .default(fallback);

const duration = (fallback: string) =>
  z
    .string()
    .trim()
    .default(fallback)
    .transform((value, ctx) => {
      const ms = parseDuration(value);
      if (ms === null) {
        ctx.addIssue({ code: "custom", message: "expected a duration like 90s, 15m, 12h or 30d" });
        return z.NEVER;
      }
      return ms;
    });

const booleanText = z.enum(["true", "false", "1", "0", "yes", "no"], {
  message: "expected true or false",
});
const isTrue = (v: string) => v === "true" || v === "1" || v === "yes";

const boolean = (fallback: boolean) =>
  booleanText.default(fallback ? "true" : "false").transform(isTrue);

/** Unset stays undefined, for settings whose default depends on another one. */
const optionalBoolean = booleanText
  .optional()
  .transform((v) => (v === undefined ? undefined : isTrue(v)));

const list = z
  .string()
  .default("")
  .transform((v) =>
    v
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  );

const optionalText = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v === "" ? undefined : v));

// Checked as a whole here so that `postgres://` or a bad port is one line at
// start-up, not a stack trace from the driver. A unix socket is `?host=/path`.
const postgresUrl = optionalText.refine((v) => {
  if (v === undefined) return true;
  if (!/^postgres(ql)?:\/\//.test(v)) return false;
  try {
    const url = new URL(v);
    return url.hostname !== "" || (url.searchParams.get("host") ?? "") !== "";
  } catch {
    return false;
  }
}, "expected a postgres:// URL with a host, like postgres://user:password@host:5432/database");

const urlWithScheme = (schemes: string[], example: string) =>
  optionalText.refine((v) => {
    if (v === undefined) return true;
    try {
      const url = new URL(v);
      return schemes.includes(url.protocol) && url.hostname !== "";
    } catch {
      return false;
    }
  }, `expected a URL like ${example}`);

const httpUrl = z
  .string()
  .trim()
  .refine((v) => {
    try {
      const u = new URL(v);
      return u.protocol === "http:" || u.protocol === "https:";
    } catch {
      return false;
    }
  }, "expected an http(s) URL");

const origins = list.transform((values, ctx) => {
  const out: string[] = [];
  for (const value of values) {
    try {
      const u = new URL(value);
      if (u.protocol !== "https:" && u.protocol !== "http:") throw new Error();
      out.push(u.origin);
    } catch {
      ctx.addIssue({ code: "custom", message: `expected http(s) origins, got ${value}` });
      return z.NEVER;
    }
  }
  return out;
});

// `kid:base64key,...`; the first key encrypts, all of them decrypt.
const encryptionKeys = list.transform((entries, ctx) => {
  const keys: { id: string; key: Uint8Array<ArrayBuffer> }[] = [];
  for (const entry of entries) {
    const colon = entry.indexOf(":");
    const id = entry.slice(0, colon);
    const key = Buffer.from(entry.slice(colon + 1), "base64");
    if (colon < 1 || !/^[A-Za-z0-9_-]{1,32}$/.test(id) || key.length !== 32) {
      ctx.addIssue({
        code: "custom",
        message: "expected kid:base64 entries, each key 32 bytes (openssl rand -base64 32)",
      });
      return z.NEVER;
    }
    keys.push({ id, key: new Uint8Array(key) as Uint8Array<ArrayBuffer> });
  }
  return keys;
});

// `10.0.0.0/8,::1,192.168.1.7`: a bare address is its own /32 or /128.
const cidrList = list.transform((entries, ctx) => {
  const out: { network: string; prefix: number; family: "ipv4" | "ipv6" }[] = [];
  for (const entry of entries) {
    const [network = "", prefixText, extra] = entry.split("/");
    const version = isIP(network);
    const max = version === 4 ? 32 : 128;
    const prefix = prefixText === undefined ? max : Number(prefixText);
    if (
      version === 0 ||
      extra !== undefined ||
      !/^\d{1,3}$/.test(prefixText ?? "0") ||
      prefix > max
    ) {
      ctx.addIssue({
        code: "custom",
        message: `expected IP addresses or CIDR ranges, got ${entry}`,
      });
      return z.NEVER;
    }
    out.push({ network, prefix, family: version === 4 ? "ipv4" : "ipv6" });
  }
  return out;
});

// Stored without the leading dot (browsers ignore it) and in lower case, for host matching.
const cookieDomain = optionalText.transform((value, ctx) => {
  if (value === undefined) return undefined;
  const domain = value.toLowerCase().replace(/^\./, "");
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(domain)) {
    ctx.addIssue({ code: "custom", message: "expected a domain name such as .example.com" });
    return z.NEVER;
  }
  return domain;
});

/** The social providers Gatehouse knows (src/providers/social-definitions.ts), by their environment prefix. */
export const oauthProviderNames = [
  "github",
  "google",
  "discord",
  "facebook",
  "linkedin",
  "x",
  "twitch",
  "msentra",
] as const;
export type OAuthProviderName = (typeof oauthProviderNames)[number];

const providerCredentials = Object.fromEntries(
  oauthProviderNames.flatMap((name) => [
    [`${name.toUpperCase()}_CLIENT_ID`, optionalText],
    [`${name.toUpperCase()}_CLIENT_SECRET`, optionalText],
  ]),
) as Record<`${Uppercase<OAuthProviderName>}_CLIENT_${"ID" | "SECRET"}`, typeof optionalText>;

export const environmentSchema = z.object({
  NODE_ENV: z
    .enum(["development", "production", "test"], {
      message: "expected development, production or test",
    })
    .default("development"),
  LOG_LEVEL: z
    .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], {
      message: "expected fatal, error, warn, info, debug, trace or silent",
    })
    .default("info"),
  /** Unset: 127.0.0.1 outside production (see serverHost), every interface in production. */
  HOST: optionalText,
  PORT: integer(3000, { min: 0, max: 65535 }),
  PUBLIC_URL: httpUrl.optional(),
  DATA_DIR: z.string().trim().min(1).default(".data"),

  DATABASE_URL: postgresUrl,
  /** The schema owner, for migrations and the CLI's owner work; DATABASE_URL when unset. */
  DATABASE_MIGRATION_URL: postgresUrl,
  /** PEM file of the CA that signed the database server's certificate (implies verify-full). */
  DATABASE_CA_FILE: optionalText,
  DB_POOL_MIN: integer(2, { max: 1000 }),
  DB_POOL_MAX: integer(10, { min: 1, max: 1000 }),
  DB_CONNECTION_TIMEOUT_MS: integer(5000, { min: 1 }),
  DB_STATEMENT_TIMEOUT_MS: integer(30000, { min: 1 }),
  DB_MAX_RETRIES: integer(3, { max: 100 }),
  DB_RETRY_DELAY_MS: integer(1000),
  DB_SLOW_QUERY_MS: integer(200),
  MIGRATE_ON_START: boolean(true),

  TRUST_PROXY_HOPS: integer(0, { max: 10 }),
  /** Addresses or CIDR ranges of the proxies whose X-Forwarded-* headers are believed. */
  TRUSTED_PROXIES: cidrList,
  BODY_LIMIT_BYTES: integer(64 * 1024, { min: 1024 }),
  SHUTDOWN_TIMEOUT_MS: integer(10000),

  SESSION_TTL: duration("30d"),
  SESSION_IDLE_TTL: duration("7d"),
  ACCESS_TOKEN_TTL: duration("10m"),
  REFRESH_TOKEN_TTL: duration("30d"),
  TOKEN_ENCRYPTION_KEYS: encryptionKeys,
  /** Access-token signing keys (JWK, JWK array or Set, or PEM), newest first; see signing-keys.ts. */
  JWT_SIGNING_KEYS: optionalText.transform((value, ctx) => {
    if (value === undefined) return [];
    try {
      return parseSigningKeys(value);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message });
      return z.NEVER;
    }
  }),
  /** The access tokens' `aud`; PUBLIC_URL when unset. */
  ACCESS_TOKEN_AUDIENCE: optionalText,

  ...providerCredentials,
  OIDC_ISSUER: httpUrl.optional(),
  OIDC_CLIENT_ID: optionalText,
  OIDC_CLIENT_SECRET: optionalText,
  OIDC_NAME: z.string().trim().min(1).default("OpenID Connect"),
  /** Scopes asked of the OpenID Connect issuer (openid is always included). */
  OIDC_SCOPES: z.string().trim().min(1).default("openid email profile"),
  /** How the client secret reaches the token endpoint; unset: Basic unless the issuer only takes POST. */
  OIDC_TOKEN_AUTH_METHOD: z
    .enum(["client_secret_basic", "client_secret_post"], {
      message: "expected client_secret_basic or client_secret_post",
    })
    .optional(),
  /** Microsoft Entra tenant: common, organizations, consumers or a tenant id. */
  MSENTRA_TENANT_ID: z.string().trim().min(1).default("common"),
  /** How long a browser may take at the provider before the sign-in must start again. */
  OAUTH_FLOW_TTL: duration("10m"),

  ADMIN_EMAILS: list.transform((emails) => emails.map((e) => e.toLowerCase())),
  /** Record consent_at at sign-up / first sign-in (the sign-in flows read it). */
  REQUIRE_CONSENT: boolean(false),
  /** How fresh the session must be for DELETE /me (sign in again after this). */
  REAUTH_MAX_AGE: duration("5m"),
  ALLOWED_REDIRECT_ORIGINS: origins,
  /** One session cookie for every app under this domain (forward-auth), e.g. `.example.com`. */
  COOKIE_DOMAIN: cookieDomain,

  SMTP_URL: urlWithScheme(["smtp:", "smtps:"], "smtp://user:password@mail.example.com:587"),
  MAIL_FROM: z.string().trim().min(3).default("Gatehouse <gatehouse@localhost>"),
  AUDIT_RETENTION_DAYS: integer(90, { min: 1 }),
  CLEANUP_INTERVAL: duration("1h"),
  CLEANUP_GRACE_PERIOD: duration("7d"),
  BACKUP_DIR: z.string().trim().min(1).default(".data/backups"),
  BACKUP_RETENTION: duration("30d"),
  // kid:base64 keys (32 bytes) for the backups' HMAC; the first signs, all verify.
  BACKUP_SIGNING_KEYS: encryptionKeys,
  REDIS_URL: urlWithScheme(["redis:", "rediss:"], "redis://redis.internal:6379"),
  METRICS_TOKEN: optionalText,

  // Email + password accounts.
  /** NIST SP 800-63B: at least 8; 15 when the password is the only factor. */
  PASSWORD_MIN_LENGTH: integer(8, { min: 8, max: 128 }),
  /** argon2id cost; the defaults are OWASP's (19 MiB, 2 passes, 1 lane). */
  PASSWORD_HASH_MEMORY_KIB: integer(19456, { min: 7168, max: 4_194_304 }),
  PASSWORD_HASH_TIME_COST: integer(2, { min: 1, max: 50 }),
  LOGIN_MAX_FAILURES: integer(5, { min: 1, max: 1000 }),
  LOGIN_LOCKOUT: duration("15m"),
  LOGIN_LOCKOUT_MAX: duration("24h"),
  RATE_LIMIT_LOGIN_IP: rateLimitSetting("20/5m"),
  RATE_LIMIT_LOGIN_ACCOUNT: rateLimitSetting("10/5m"),
  RATE_LIMIT_SIGNUP_IP: rateLimitSetting("10/1h"),
  RATE_LIMIT_MAIL_IP: rateLimitSetting("10/1h"),
  RATE_LIMIT_MAIL_ACCOUNT: rateLimitSetting("3/1h"),
  EMAIL_VERIFICATION_TTL: duration("24h"),
  PASSWORD_RESET_TTL: duration("1h"),
  SMTP_TIMEOUT: duration("10s"),
  /** GET /dev/outbox; unset: on in development only; never served in production. */
  DEV_OUTBOX: optionalBoolean,

  /**
   * How long a replica may reuse a validated session or bearer-token check
   * (src/sessions/credential-cache.ts): the bound on staleness should change
   * notifications fail unnoticed by the listener's heartbeat. 0: no cache.
   */
  AUTH_CACHE_TTL: z
    .string()
    .trim()
    .default("1s")
    .transform((value, ctx) => {
      const ms = value === "0" ? 0 : parseDuration(value);
      if (ms === null || ms > 10_000) {
        ctx.addIssue({ code: "custom", message: "expected 0 or a duration up to 10s, like 1s" });
        return z.NEVER;
      }
      return ms;
    }),
});

export type Environment = z.infer<typeof environmentSchema>;
export type Config = Environment & { PUBLIC_URL: string; HOST: string };

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Parses an environment (process.env by default) into the typed config, or throws ConfigError. */
export function parseConfig(env: Record<string, string | undefined> = process.env): Config {
  const result = environmentSchema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
    );
  }
  const parsed = result.data;
  if (parsed.DB_POOL_MIN > parsed.DB_POOL_MAX) {
    throw new ConfigError("DB_POOL_MIN: must not be larger than DB_POOL_MAX");
  }
  const databaseProblem = databaseSettingsProblem(parsed);
  if (databaseProblem) throw new ConfigError(databaseProblem);
  if (parsed.NODE_ENV === "production" && !parsed.DATABASE_URL) {
    // The embedded PostgreSQL is a development convenience; production data lives on a real server.
    throw new ConfigError("DATABASE_URL: required when NODE_ENV=production");
  }
  const publicUrl = (parsed.PUBLIC_URL ?? `http://localhost:${parsed.PORT}`).replace(/\/+$/, "");
  const cookieDomain = parsed.COOKIE_DOMAIN;
  const publicHost = new URL(publicUrl).hostname;
  if (cookieDomain && publicHost !== cookieDomain && !publicHost.endsWith(`.${cookieDomain}`)) {
    // A browser drops a cookie whose Domain does not cover the host that set it.
    throw new ConfigError(`COOKIE_DOMAIN: must contain PUBLIC_URL's host (${publicHost})`);
  }
  // A development server (with its mail outbox of reset links) stays on this
  // machine unless asked; a production server is meant to be reached.
  const host = parsed.HOST ?? (parsed.NODE_ENV === "production" ? "0.0.0.0" : "127.0.0.1");
  return { ...parsed, PUBLIC_URL: publicUrl, HOST: host };
}

/**
 * parseConfig plus what only the server needs (the CLI's migrate or backup
 * must not): checked before anything touches the database.
 */
export function parseServerConfig(env: Record<string, string | undefined> = process.env): Config {
  const config = parseConfig(env);
  if (config.NODE_ENV === "production" && config.JWT_SIGNING_KEYS.length === 0) {
    // Every replica must sign with, and publish, the same keys.
    throw new ConfigError("JWT_SIGNING_KEYS: required in production (an Ed25519 or P-256 key)");
  }
  const providerConfigured =
    config.OIDC_CLIENT_ID !== undefined ||
    oauthProviderNames.some((name) => config[`${toUpper(name)}_CLIENT_ID`] !== undefined);
  if (
    config.NODE_ENV === "production" &&
    providerConfigured &&
    !config.TOKEN_ENCRYPTION_KEYS.length
  ) {
    // Otherwise the first provider sign-in would fail on storing the provider's tokens.
    throw new ConfigError(
      "TOKEN_ENCRYPTION_KEYS: required in production when a sign-in provider is configured (kid:base64 of 32 random bytes)",
    );
  }
  return config;
}

const toUpper = <T extends string>(name: T) => name.toUpperCase() as Uppercase<T>;
