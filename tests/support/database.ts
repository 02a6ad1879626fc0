import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { runtimeRoleStatements } from "../../sql/database-roles.ts";
import { startEmbeddedPostgres } from "../../src/db/embedded-postgres.ts";
import { runMigrations } from "../../src/db/migrations.ts";
import { createDatabasePool, type DatabasePool } from "../../src/db/pool.ts";
import { scramSha256Verifier } from "../../src/db/runtime-role.ts";
import { createLogger } from "../../src/logger.ts";

// One PostgreSQL server per `bun test` run (TEST_DATABASE_URL, or an embedded
// one in a temporary folder) and one migrated template database; every test
// file clones its own database from the template, which takes milliseconds
// where running the migrations would take far longer.

export const testLogger = createLogger(process.env.TEST_LOG_LEVEL ?? "silent");

const runId = `${process.pid}_${Date.now().toString(36)}`;
const templateName = `gatehouse_template_${runId}`;
let server: { adminUrl: string; stop: () => Promise<void> } | null = null;
let databaseCount = 0;

// TEST_DATABASE_ROLE=runtime: every test database's pool connects as a
// runtime role made by `gatehouse db roles`' own SQL (one per run, dropped
// at the end), to check that the routes work without schema rights. Tests
// that change the schema through that pool themselves fail in this mode.
const runtimeRole =
  process.env.TEST_DATABASE_ROLE === "runtime"
    ? { name: `gatehouse_rt_${runId}`, password: randomBytes(18).toString("base64url") }
    : null;

export function databaseUrl(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function withAdminClient<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  if (!server) throw new Error("test database server not started (is the preload missing?)");
  const client = new pg.Client({ connectionString: server.adminUrl });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

export async function startTestDatabaseServer(): Promise<void> {
  const external = process.env.TEST_DATABASE_URL;
  if (external) {
    server = { adminUrl: external, stop: async () => {} };
  } else {
    const dataDir = await mkdtemp(join(tmpdir(), "gatehouse-test-"));
    const embedded = await startEmbeddedPostgres({ dataDir, logger: testLogger, ephemeral: true });
    server = {
      adminUrl: embedded.url,
      stop: async () => {
        await embedded.stop();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  }
  await withAdminClient((c) => c.query(`CREATE DATABASE ${templateName}`));
  await runMigrations({
    databaseUrl: databaseUrl(server.adminUrl, templateName),
    direction: "up",
    logger: testLogger,
  });
}

export async function stopTestDatabaseServer(): Promise<void> {
  if (!server) return;
  await withAdminClient(async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname LIKE $1",
      [`gatehouse_%${runId}%`],
    );
    for (const { datname } of rows) {
      await client.query(
        `DROP DATABASE IF EXISTS ${client.escapeIdentifier(datname)} WITH (FORCE)`,
      );
    }
    // Roles are cluster-wide; its grants went with the databases.
    if (runtimeRole) await client.query(`DROP ROLE IF EXISTS ${runtimeRole.name}`);
  });
  await server.stop();
  server = null;
}

export type TestDatabase = {
  url: string;
  /** A pool configured as the application configures its own. */
  pool: DatabasePool;
  /** Closes the pool and drops the database. */
  drop: () => Promise<void>;
};

/** A pool as the tests use it (what another replica would open, too). */
export const openTestPool = (url: string) =>
  createDatabasePool({
    url,
    minPoolSize: 0,
    maxPoolSize: 10,
    connectionTimeoutMs: 5000,
    statementTimeoutMs: 30000,
    slowQueryMs: 1000,
    logger: testLogger,
  });

/** A fresh, migrated database of this test file's own. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `gatehouse_test_${runId}_${++databaseCount}`;
  await withAdminClient((c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${templateName}`));
  const url = databaseUrl(server?.adminUrl ?? "", name);
  const pool = await openTestPool(runtimeRole ? await grantRuntimeRole(url, runtimeRole) : url);
  return {
    url,
    pool,
    drop: async () => {
      await pool.end();
      await dropDatabase(name);
    },
  };
}

/** Creates (once) and grants the runtime role in a database; returns its URL as that role. */
async function grantRuntimeRole(
  url: string,
  role: { name: string; password: string },
): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("BEGIN");
    for (const statement of runtimeRoleStatements(role.name, { login: true })) {
      await client.query(statement.sql);
    }
    await client.query(`ALTER ROLE ${role.name} PASSWORD '${scramSha256Verifier(role.password)}'`);
    await client.query("COMMIT");
  } finally {
    await client.end();
  }
  const runtime = new URL(url);
  runtime.username = role.name;
  runtime.password = role.password;
  return runtime.toString();
}

/**
 * Drops a test database once the connections closed just before have left
 * (a client's end() can resolve before the server lets go): forcing out a
 * connection its owner still holds would raise an unhandled error there.
 */
async function dropDatabase(name: string): Promise<void> {
  await withAdminClient(async (c) => {
    for (let attempt = 0; attempt < 40; attempt++) {
      const { rows } = await c.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1",
        [name],
      );
      if (rows[0]?.n === 0) break;
      await Bun.sleep(50);
    }
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
}

/** An empty database (no migrations), for tests of the migrations themselves. */
export async function createEmptyDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `gatehouse_empty_${runId}_${++databaseCount}`;
  // template0 takes no connections, so concurrent copies of it never collide.
  await withAdminClient((c) => c.query(`CREATE DATABASE ${name} TEMPLATE template0`));
  return {
    url: databaseUrl(server?.adminUrl ?? "", name),
    drop: () => dropDatabase(name),
  };
}
