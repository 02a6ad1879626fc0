import { createApp } from "./app.ts";
import { type Config, ConfigError, formatConfigError, parseServerConfig } from "./config/index.ts";
import { applyPendingMigrations } from "./db/migrations.ts";
import { openDatabase } from "./db/open-database.ts";
import { createLogger } from "./logger.ts";
import { startCleanupSchedule } from "./ops/cleanup-schedule.ts";
import { createServices } from "./services.ts";

// Process wiring: config → database → migrations → services → serve → shutdown.

// Every setting that can stop the server is checked here, before anything
// touches the database (parseServerConfig includes the server's own, such
// as JWT_SIGNING_KEYS in production): the one place a ConfigError ends it.
function loadConfig(): Config {
  try {
    return parseServerConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(formatConfigError(error));
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

const services = await createServices(config, {
  pool: db.pool,
  listenUrl: db.listenUrl,
  queueUrl: db.url,
  logger,
});
await stopIfAsked(async () => {
  await services.close();
  await db.close();
});
const app = createApp(services);

let server: ReturnType<typeof Bun.serve>;
try {
  server = Bun.serve({ hostname: config.http.HOST, port: config.http.PORT, fetch: app.fetch });
} catch (error) {
  logger.fatal({ err: error, port: config.http.PORT }, "cannot listen");
  await services.close();
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
  // Each part is closed even when one before it fails: the database may be
  // gone already (an embedded PostgreSQL that got the same signal).
  const parts = [
    ["cleanup schedule", () => cleanupSchedule.stop()],
    ["services", () => services.close()],
    ["database", () => db.close()],
  ] as const;
  for (const [part, close] of parts) {
    await close().catch((err: unknown) =>
      logger.warn({ err, part }, "shutdown: not closed cleanly"),
    );
  }
  logger.info("stopped");
  process.exit(0);
}
onStopSignal = (signal) => void shutdown(signal);
