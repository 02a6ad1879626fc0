import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { DatabasePool } from "slonik";
import { insertUser } from "../sql/users.ts";
import { type Config, parseConfig } from "../src/config/index.ts";
import { createDatabasePool } from "../src/db/pool.ts";
import { freePort } from "../src/free-port.ts";
import { sessionCookieName } from "../src/http/session-cookie.ts";
import type { Logger } from "../src/logger.ts";
import { createSession } from "../src/sessions/sessions.ts";
import { type ServerProcess, startServer } from "./processes.ts";

export const repositoryRoot = resolve(import.meta.dir, "..");
export const benchPassword = "correct horse battery staple, benchmarked";

export type Gatehouse = ServerProcess & {
  config: Config;
  /** A pool on the same database, for seeding through the service's own sql/ modules. */
  pool: DatabasePool;
  cookieName: string;
};

/**
 * The production environment the bench gives Gatehouse: every secret it
 * requires, generated per run. The login rate limits are lifted: one client
 * signing one account in thousands of times a second is exactly what they
 * exist to stop, and the bench measures the sign-in itself. LOG_LEVEL=warn keeps one JSON line per request
 * out of the figures (BENCH_LOG_LEVEL=info measures with it). Cleanup's grace
 * and audit retention are pushed out of reach so the server's own cleanup
 * job cannot delete what `bench scale` planted while it measures.
 */
export async function gatehouseEnvironment(databaseUrl: string): Promise<Record<string, string>> {
  const port = await freePort();
  const dataDir = await mkdtemp(join(tmpdir(), "gatehouse-bench-data-"));
  return {
    NODE_ENV: "production",
    HOST: "127.0.0.1",
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATABASE_URL: databaseUrl,
    TOKEN_ENCRYPTION_KEYS: `bench:${randomBytes(32).toString("base64")}`,
    JWT_SIGNING_KEYS: JSON.stringify({
      ...generateKeyPairSync("ed25519").privateKey.export({ format: "jwk" }),
      kid: "bench",
    }),
    RATE_LIMIT_LOGIN_IP: "999999999/1m",
    RATE_LIMIT_LOGIN_ACCOUNT: "999999999/1m",
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "warn",
    DATA_DIR: dataDir,
    BACKUP_DIR: join(dataDir, "backups"),
    MIGRATE_ON_START: "true",
    CLEANUP_GRACE_PERIOD: "36500d",
    AUDIT_RETENTION_DAYS: "36500",
  };
}

export async function startGatehouse(
  databaseUrl: string,
  logger: Logger,
  extraEnv: Record<string, string> = {},
): Promise<Gatehouse> {
  const env = { ...(await gatehouseEnvironment(databaseUrl)), ...extraEnv };
  // BENCH_CPU_PROF=<dir>: a CPU profile of each Gatehouse process (JSON and
  // markdown summary) lands there when it stops: where the time goes.
  const profileDir = process.env.BENCH_CPU_PROF;
  const server = await startServer({
    script: "src/main.ts",
    runtimeArgs: profileDir
      ? ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${resolve(profileDir)}`]
      : [],
    cwd: repositoryRoot,
    env,
    readyPath: "/readyz",
  });
  const config = parseConfig(env);
  const pool = await createDatabasePool({
    url: databaseUrl,
    minPoolSize: 1,
    maxPoolSize: 4,
    connectionTimeoutMs: 5000,
    statementTimeoutMs: 600_000,
    slowQueryMs: 600_000,
    logger,
  });
  return {
    ...server,
    config,
    pool,
    cookieName: sessionCookieName(config),
    stop: async () => {
      await pool.end();
      await server.stop();
    },
  };
}

/** An active, approved user with a password (the service's own insert). */
export async function seedUser(
  pool: DatabasePool,
  email: string,
  passwordHash: string,
): Promise<string> {
  const user = await insertUser(pool, {
    email,
    emailVerified: true,
    passwordHash,
    isWhitelisted: true,
    fullName: "Bench User",
  });
  return user.id;
}

/** A live session for the user, as sign-in would create it; returns the cookie header. */
export async function seedSessionCookie(gatehouse: Gatehouse, userId: string): Promise<string> {
  const { secret } = await createSession(gatehouse.pool, {
    userId,
    ttlMs: gatehouse.config.session.SESSION_TTL,
    idleTtlMs: gatehouse.config.session.SESSION_IDLE_TTL,
    ip: "127.0.0.1",
    userAgent: "gatehouse-bench",
  });
  return `${gatehouse.cookieName}=${secret}`;
}
