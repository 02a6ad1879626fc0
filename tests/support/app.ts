import { afterAll } from "bun:test";
import { generateKeyPairSync } from "node:crypto";
import { type App, createApp } from "../../src/app.ts";
import { type Config, parseConfig } from "../../src/config/index.ts";
import type { DatabasePool } from "../../src/db/pool.ts";
import { freePort } from "../../src/free-port.ts";
import type { Logger } from "../../src/logger.ts";
import { createServices } from "../../src/services.ts";
import type { CredentialCache } from "../../src/sessions/credential-cache.ts";
import { createTestDatabase, testLogger } from "./database.ts";

export type TestApp = {
  /** http://127.0.0.1:<port> */
  url: string;
  config: Config;
  /** A real HTTP request to the running app; `path` is relative to its URL. */
  request: (path: string, init?: RequestInit) => Promise<Response>;
  close: () => Promise<void>;
  /** The app's credential cache, when AUTH_CACHE_TTL turns it on. */
  credentialCache: CredentialCache | undefined;
};

// One signing key for the run, as an operator would configure it, so a test
// may also start an app with NODE_ENV=production.
const testSigningKeys = JSON.stringify({
  ...generateKeyPairSync("ed25519").privateKey.export({ format: "jwk" }),
  kid: "test",
});

/**
 * Serves createApp over createServices, as main.ts does, on 127.0.0.1 with a test configuration;
 * `env` overrides environment variables as an operator would set them.
 */
export async function startTestApp(
  pool: DatabasePool,
  env: Record<string, string> = {},
  /** Extra routes mounted behind the real middleware, for testing a helper such as readBody. */
  extraRoutes?: (app: App) => void,
  logger: Logger = testLogger,
  /** listenUrl: where the credential cache's LISTEN connection goes (the pool's database by default). */
  { listenUrl }: { listenUrl?: string } = {},
): Promise<TestApp> {
  const config = parseConfig({
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    DATABASE_URL: "postgres://unused",
    JWT_SIGNING_KEYS: testSigningKeys,
    // Off unless a test turns it on: a test that changes the database and
    // asks again at once would otherwise race the change's notification.
    AUTH_CACHE_TTL: "0",
    ...env,
  });
  const services = await createServices(config, {
    pool,
    logger,
    ...(listenUrl ? { listenUrl } : {}),
  });
  // Start-up work runs queries of its own: done before the test's first request.
  await services.startUpWork;
  const app = createApp(services);
  extraRoutes?.(app);
  // Port 0 (any free one) unless the test fixes PORT, e.g. so PUBLIC_URL can name it.
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: env.PORT ? config.http.PORT : 0,
    fetch: app.fetch,
  });
  const url = `http://127.0.0.1:${server.port}`;
  return {
    url,
    config,
    request: (path, init) => fetch(new URL(path, url), init),
    credentialCache: services.credentialCache,
    close: async () => {
      await server.stop(true);
      await services.close();
    },
  };
}

/**
 * What most files of HTTP tests run against: their own database and an app
 * over it (`env` added to its environment), both gone after the file.
 */
export async function appTestSetup(env: Record<string, string> = {}) {
  const db = await createTestDatabase();
  const app = await startTestApp(db.pool, env);
  afterAll(async () => {
    await app.close();
    await db.drop();
  });
  return { db, app };
}

/**
 * An app on its own database, on a fixed port that PUBLIC_URL names: what a
 * browser's Origin (the CSRF check) and a relying party's issuer check need.
 * Stopped after the file's tests.
 */
export async function selfAddressedAppSetup(env: Record<string, string> = {}) {
  const db = await createTestDatabase();
  const port = await freePort();
  const app = await startTestApp(db.pool, {
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    ...env,
  });
  afterAll(async () => {
    await app.close();
    await db.drop();
  });
  return { db, app };
}
