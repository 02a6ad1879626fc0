import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DatabasePool, sql } from "slonik";
import { z } from "zod";
import { ConfigError, parseConfig } from "../src/config/index.ts";
import { listenForever } from "../src/db/listen.ts";
import { migrationNamesOnDisk, runMigrations } from "../src/db/migrations.ts";
import { openDatabase } from "../src/db/open-database.ts";
import { runCli } from "./support/cli.ts";
import { testLogger } from "./support/database.ts";
import { expectReadyThenCleanStop, startServer } from "./support/server-process.ts";
import { startTlsDatabaseServer } from "./support/tls-database.ts";

// DATABASE_URL with sslmode=verify-full and DATABASE_CA_FILE, against a
// PostgreSQL of its own that takes TLS connections only (pg_hba hostssl),
// with a throw-away CA and a certificate for `localhost` made by openssl.

// A cluster of its own, the CLI and the server as processes.
setDefaultTimeout(90_000);

const server = await startTlsDatabaseServer();
const dir = await mkdtemp(join(tmpdir(), "gatehouse-tls-cli-"));
afterAll(async () => {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

const withMode = (url: string, mode: string) => {
  const u = new URL(url);
  u.searchParams.set("sslmode", mode);
  return u.toString();
};
const verifyFull = withMode(server.url, "verify-full");
const onIp = (url: string) => url.replace("@localhost:", "@127.0.0.1:");

const settings = (env: Record<string, string>) =>
  parseConfig({
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    DATA_DIR: dir,
    DB_MAX_RETRIES: "0",
    ...env,
  });

const sslOfConnection = z.object({ ssl: z.boolean() });
const usesTls = (pool: DatabasePool) =>
  pool.oneFirst(
    sql.type(sslOfConnection)`SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()`,
  );

function cliEnv(env: Record<string, string>) {
  return { NODE_ENV: "test", LOG_LEVEL: "silent", DATA_DIR: dir, BACKUP_DIR: dir, ...env };
}

describe("sslmode=verify-full with DATABASE_CA_FILE", () => {
  test("the pool, the migrations and the LISTEN connection all connect over TLS", async () => {
    const config = settings({ DATABASE_URL: verifyFull, DATABASE_CA_FILE: server.caFile });
    const db = await openDatabase(config, testLogger);
    try {
      expect(await usesTls(db.pool)).toBe(true);

      await runMigrations({ databaseUrl: db.ownerUrl, direction: "up", logger: testLogger });
      const applied = await db.pool.anyFirst(sql.type(z.object({ name: z.string() }))`
        SELECT name FROM pgmigrations ORDER BY id`);
      expect([...applied]).toEqual(await migrationNamesOnDisk());

      let sent = false;
      const heard = new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no notification over TLS")), 10_000);
        const listener = listenForever({
          url: db.url,
          channel: "gatehouse_tls_test",
          logger: testLogger,
          sendHeartbeat: async (payload) => {
            await db.pool.query(sql.unsafe`SELECT pg_notify('gatehouse_tls_test', ${payload})`);
          },
          // Hearing its own heartbeat proves LISTEN works over TLS; then the real message.
          onHearing: () => {
            if (sent) return;
            sent = true;
            void db.pool.query(sql.unsafe`SELECT pg_notify('gatehouse_tls_test', 'hello')`);
          },
          onLost: () => {},
          onNotification: (payload) => {
            clearTimeout(timer);
            void listener.close().then(() => resolve(payload));
          },
        });
      });
      expect(await heard).toBe("hello");
    } finally {
      await db.close();
    }
  });

  test("the server process starts on it and answers /readyz", async () => {
    await expectReadyThenCleanStop({
      DATABASE_URL: verifyFull,
      DATABASE_CA_FILE: server.caFile,
      DATA_DIR: dir,
    });
  });

  test("the CLI migrates over it, the CA named by the URL's sslrootcert alone", async () => {
    const url = new URL(verifyFull);
    url.searchParams.set("sslrootcert", server.caFile);
    const result = await runCli(
      ["migrate", "up", "--json"],
      cliEnv({ DATABASE_URL: url.toString() }),
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ direction: "up", migrations: [] });
  });

  test("a CA that did not sign the server's certificate is refused with one clear line", async () => {
    const result = await runCli(
      ["migrate", "status"],
      cliEnv({ DATABASE_URL: verifyFull, DATABASE_CA_FILE: server.otherCaFile }),
    );
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("the database server's certificate was refused");
    expect(lines[0]).toContain("DATABASE_CA_FILE");
    expect(result.stderr).not.toContain(new URL(server.url).password);
  });

  test("the server process refuses a wrong CA at start with the same explanation", async () => {
    const child = startServer({
      DATABASE_URL: verifyFull,
      DATABASE_CA_FILE: server.otherCaFile,
      DB_MAX_RETRIES: "0",
      PORT: "0",
      LOG_LEVEL: "info",
      DATA_DIR: dir,
    });
    const [code, stdout] = await Promise.all([child.exited, new Response(child.stdout).text()]);
    expect(code).toBe(1);
    expect(stdout).toContain("the database server's certificate was refused");
    expect(stdout).not.toContain(new URL(server.url).password);
  });

  /** Why opening the database with these settings failed; null when it opened. */
  const refusalOf = (settings: Parameters<typeof openDatabase>[0]) =>
    openDatabase(settings, testLogger).then(
      async (db) => {
        await db.close();
        return null;
      },
      (error: Error) => error.message,
    );

  test("verify-full checks the host name; verify-ca checks the chain only", async () => {
    const byAddress = settings({
      DATABASE_URL: onIp(verifyFull),
      DATABASE_CA_FILE: server.caFile,
    });
    const refused = await refusalOf(byAddress);
    expect(refused).toContain("ERR_TLS_CERT_ALTNAME_INVALID");

    const chainOnly = settings({
      DATABASE_URL: onIp(withMode(server.url, "verify-ca")),
      DATABASE_CA_FILE: server.caFile,
    });
    const db = await openDatabase(chainOnly, testLogger);
    try {
      expect(await usesTls(db.pool)).toBe(true);
    } finally {
      await db.close();
    }
  });

  test("without TLS this server turns the connection away (so the passes above used TLS)", async () => {
    const plain = settings({ DATABASE_URL: withMode(server.url, "disable") });
    const failure = await refusalOf(plain);
    expect(failure).toContain("no encryption");
  });
});

describe("the TLS settings are checked at parse time", () => {
  const problem = (env: Record<string, string>) => {
    try {
      settings(env);
      return null;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return error.message;
    }
  };

  test("a CA file that does not exist, or holds no certificate, names DATABASE_CA_FILE", () => {
    expect(problem({ DATABASE_URL: verifyFull, DATABASE_CA_FILE: join(dir, "nope.pem") })).toBe(
      `DATABASE_CA_FILE: file ${join(dir, "nope.pem")} cannot be read (ENOENT)`,
    );
    expect(problem({ DATABASE_URL: verifyFull, DATABASE_CA_FILE: "package.json" })).toBe(
      "DATABASE_CA_FILE: file package.json holds no PEM certificate",
    );
  });

  test("an sslmode the driver cannot honour names the variable", () => {
    expect(problem({ DATABASE_URL: withMode(server.url, "prefer") })).toStartWith(
      "DATABASE_URL: sslmode=prefer is not supported",
    );
    expect(problem({ DATABASE_URL: withMode(server.url, "bogus") })).toStartWith(
      "DATABASE_URL: sslmode=bogus is not one of",
    );
    expect(
      problem({
        DATABASE_URL: server.url,
        DATABASE_MIGRATION_URL: `${withMode(server.url, "disable")}&sslrootcert=${server.caFile}`,
      }),
    ).toStartWith("DATABASE_MIGRATION_URL: sslmode=disable checks no certificate");
  });

  test("a sslrootcert in the URL that cannot be read names DATABASE_URL", () => {
    const url = new URL(verifyFull);
    url.searchParams.set("sslrootcert", join(dir, "missing.crt"));
    expect(problem({ DATABASE_URL: url.toString() })).toBe(
      `DATABASE_URL: sslrootcert file ${join(dir, "missing.crt")} cannot be read (ENOENT)`,
    );
  });

  test("DATABASE_MIGRATION_URL and DATABASE_CA_FILE need DATABASE_URL", () => {
    expect(problem({ DATABASE_MIGRATION_URL: server.url })).toStartWith(
      "DATABASE_MIGRATION_URL: needs DATABASE_URL",
    );
    expect(problem({ DATABASE_CA_FILE: server.caFile })).toStartWith(
      "DATABASE_CA_FILE: needs DATABASE_URL",
    );
  });
});
