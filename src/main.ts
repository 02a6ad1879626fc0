import { createApp } from "./app.ts";
import { startCredentialCache } from "./auth/credential-cache.ts";
import { type Config, ConfigError, parseConfig } from "./config.ts";
import { migrationNamesOnDisk, runMigrations } from "./db/migrations.ts";
import { openDatabase } from "./db/open-database.ts";
import { createLogger } from "./logger.ts";
import { startCleanupSchedule } from "./ops/cleanup-schedule.ts";

// Process wiring: config → database → migrations → serve → shutdown.

function loadConfig(): Config {
  try {
    return parseConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`gatehouse: invalid configuration: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
}

const config = loadConfig();
const logger = createLogger(config.LOG_LEVEL);

const db = await openDatabase(config, logger).catch((error: unknown) => {
  logger.fatal({ err: error }, "cannot reach the database; giving up");
  process.exit(1);
});

if (config.MIGRATE_ON_START) {
  const applied = await runMigrations({ databaseUrl: db.url, direction: "up", logger });
  logger.info({ applied: applied.length }, "migrations are current");
}

const expectedMigrations = await migrationNamesOnDisk();
const credentials =
  config.AUTH_CACHE_TTL > 0
    ? startCredentialCache({
        url: db.url,
        pool: db.pool,
        ttlMs: config.AUTH_CACHE_TTL,
        logger,
      })
    : null;
let app: ReturnType<typeof createApp>;
try {
  app = createApp({
    config,
    pool: db.pool,
    logger,
    expectedMigrations,
    credentialCache: credentials?.cache,
  });
} catch (error) {
  // Settings only checkable against keys (JWT_SIGNING_KEYS in production).
  if (!(error instanceof ConfigError)) throw error;
  console.error(`gatehouse: invalid configuration: ${error.message}`);
  await db.close();
  process.exit(2);
}

let server: ReturnType<typeof Bun.serve>;
try {
  server = Bun.serve({ hostname: config.HOST, port: config.PORT, fetch: app.fetch });
} catch (error) {
  logger.fatal({ err: error, port: config.PORT }, "cannot listen");
  await db.close();
  process.exit(1);
}
logger.info(
  { url: `http://${config.HOST}:${server.port}`, publicUrl: config.PUBLIC_URL },
  "listening",
);

const cleanupSchedule = startCleanupSchedule({ pool: db.pool, config, logger });

let shuttingDown = false;
async function shutdown(signal: string) {
  if (shuttingDown) return;
  shuttingDown = true;
  logger.info({ signal }, "shutting down: no new connections, finishing in-flight requests");
  // stop() resolves once in-flight requests are answered; force-close after the grace period.
  const forced = setTimeout(() => server.stop(true), config.SHUTDOWN_TIMEOUT_MS);
  await server.stop();
  clearTimeout(forced);
  await cleanupSchedule.stop();
  await credentials?.close();
  await db.close();
  logger.info("stopped");
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
