import { execFileSync } from "node:child_process";
import { chown, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbeddedPostgres } from "../../src/db/embedded-postgres.ts";
import { testLogger } from "./database.ts";

// A PostgreSQL server of its own that only takes TLS connections, with a
// throw-away CA and a server certificate for `localhost` made by openssl,
// for tests of sslmode=verify-full. Separate from the run's shared server,
// which may be an external one without TLS.

export type TlsDatabaseServer = {
  /** postgres://…@localhost:<port>/postgres, no TLS parameters yet. */
  url: string;
  /** The CA that signed the server's certificate. */
  caFile: string;
  /** Another CA, which signed nothing the server presents. */
  otherCaFile: string;
  stop: () => Promise<void>;
};

function openssl(args: string[], cwd: string) {
  execFileSync("openssl", args, { cwd, stdio: "pipe" });
}

function makeCa(dir: string, name: string) {
  openssl(
    [
      ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
      ...["-keyout", `${name}.key`, "-out", `${name}.crt`, "-days", "2"],
      ...["-subj", `/CN=Gatehouse test ${name}`],
      ...["-addext", "basicConstraints=critical,CA:TRUE"],
      ...["-addext", "keyUsage=critical,keyCertSign,cRLSign"],
    ],
    dir,
  );
}

/** The uid/gid PostgreSQL runs as when we are root (embedded-postgres switches to `postgres`). */
function postgresUser(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  try {
    execFileSync("id", ["-u", "postgres"], { stdio: "pipe" });
  } catch {
    execFileSync("groupadd", ["--system", "postgres"]);
    execFileSync("useradd", ["--system", "--gid", "postgres", "--no-create-home", "postgres"]);
  }
  return {
    uid: Number(execFileSync("id", ["-u", "postgres"]).toString().trim()),
    gid: Number(execFileSync("id", ["-g", "postgres"]).toString().trim()),
  };
}

export async function startTlsDatabaseServer(): Promise<TlsDatabaseServer> {
  const dataDir = await mkdtemp(join(tmpdir(), "gatehouse-tls-"));
  makeCa(dataDir, "ca");
  makeCa(dataDir, "other-ca");
  openssl(
    [
      ...["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
      ...["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"],
    ],
    dataDir,
  );
  await writeFile(
    join(dataDir, "server.ext"),
    "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
  );
  openssl(
    [
      ...["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key"],
      ...["-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "server.ext"],
    ],
    dataDir,
  );
  // TLS or nothing: a connection that does not ask for it is turned away, so
  // any that succeeds proves the client spoke TLS.
  await writeFile(
    join(dataDir, "pg_hba.conf"),
    "hostssl all all 127.0.0.1/32 password\nhostssl all all ::1/128 password\n",
  );
  // PostgreSQL refuses a key that others may read, or that another user owns.
  const owner = postgresUser();
  for (const file of ["server.key", "server.crt", "pg_hba.conf"]) {
    if (owner) await chown(join(dataDir, file), owner.uid, owner.gid);
  }
  execFileSync("chmod", ["600", join(dataDir, "server.key")]);

  const embedded = await startEmbeddedPostgres({
    dataDir,
    logger: testLogger,
    ephemeral: true,
    settings: {
      ssl: "on",
      ssl_cert_file: join(dataDir, "server.crt"),
      ssl_key_file: join(dataDir, "server.key"),
      hba_file: join(dataDir, "pg_hba.conf"),
    },
  });
  const url = new URL(embedded.url);
  url.hostname = "localhost";
  return {
    url: url.toString(),
    caFile: join(dataDir, "ca.crt"),
    otherCaFile: join(dataDir, "other-ca.crt"),
    stop: async () => {
      await embedded.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
