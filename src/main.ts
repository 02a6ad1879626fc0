import { createApp } from "./app.ts";
import { type Config, ConfigError, parseServerConfig } from "./config/index.ts";
import { applyPendingMigrations, migrationNamesOnDisk } from "./db/migrations.ts";
import { openDatabase } from "./db/open-database.ts";
import { createLogger } from "./logger.ts";
import { startCleanupSchedule } from "./ops/cleanup-schedule.ts";
import { startCredentialCache } from "./sessions/credential-cache.ts";
import { startSessionTouches } from "./sessions/session-touches.ts";

// Process wiring: config → database → migrations → serve → shutdown.

function loadConfig(): Config {
  try {
    return parseServerConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`gatehouse: invalid configuration: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
}

const config = loadConfig();
const logger = createLogger(config.runtime.LOG_LEVEL);

// Until the server listens, a stop signal (an orchestrator giving up on a
// slow start, Ctrl-C) ends start-up at its next step and still closes what
// start-up opened: an embedded PostgreSQL must not outlive this process.
const startup = new AbortController();
let onStopSignal = (signal: string) => startup.abort(signal);
process.on("SIGTERM", () => onStopSignal("SIGTERM"));
process.on("SIGINT", () => onStopSignal("SIGINT"));

async function stopIfAsked(close: () => Promise<void>) {
  if (!startup.signal.aborted) return;
  await close();
  logger.info({ signal: startup.signal.reason }, "stopped during start-up");
  process.exit(0);
}

const db = await openDatabase(config, logger, { signal: startup.signal }).catch(
  async (error: unknown) => {
    await stopIfAsked(async () => {});
    logger.fatal({ err: error }, "cannot reach the database; giving up");
    process.exit(1);
  },
);
await stopIfAsked(db.close);

if (config.database.MIGRATE_ON_START) {
  try {
    const applied = await applyPendingMigrations({ pool: db.pool, ownerUrl: db.ownerUrl, logger });
    logger.info({ applied: applied.length }, "migrations are current");
  } catch (error) {
    // Closing stops an embedded PostgreSQL too, which an uncaught rejection left running.
    logger.fatal({ err: error }, "cannot apply migrations; giving up");
    await db.close();
    process.exit(1);
  }
}

const expectedMigrations = await migrationNamesOnDisk();
await stopIfAsked(db.close);
const credentials =
  config.session.AUTH_CACHE_TTL > 0
    ? startCredentialCache({
        url: db.url,
        pool: db.pool,
        ttlMs: config.session.AUTH_CACHE_TTL,
        logger,
      })
    : null;
const sessionTouches = startSessionTouches(db.pool, logger);
let app: ReturnType<typeof createApp>;
try {
  app = createApp({
    config,
    pool: db.pool,
    logger,
    expectedMigrations,
    credentialCache: credentials?.cache,
    sessionTouches,
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
  server = Bun.serve({ hostname: config.http.HOST, port: config.http.PORT, fetch: app.fetch });
} catch (error) {
  logger.fatal({ err: error, port: config.http.PORT }, "cannot listen");
  await db.close();
  process.exit(1);
}
logger.info(
  { url: `http://${config.http.HOST}:${server.port}`, publicUrl: config.http.PUBLIC_URL },
  "listening",
);

const cleanupSchedule = startCleanupSchedule({ pool: db.pool, config, logger });

let shuttingDown = false;
async function shutdown(signal: string) {
  if (shuttingDown) return;
  shuttingDown = true;
  logger.info({ signal }, "shutting down: no new connections, finishing in-flight requests");
  // stop() resolves once in-flight requests are answered; force-close after the grace period.
  const forced = setTimeout(() => server.stop(true), config.http.SHUTDOWN_TIMEOUT_MS);
  await server.stop();
  clearTimeout(forced);
  await cleanupSchedule.stop();
  await sessionTouches.close();
  await credentials?.close();
  await db.close();
  logger.info("stopped");
  process.exit(0);
}
onStopSignal = (signal) => void shutdown(signal);
