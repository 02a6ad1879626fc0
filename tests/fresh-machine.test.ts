import { afterAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { freePort } from "../src/free-port.ts";

// What a newcomer does on a machine with Node and npm and nothing else: the
// README's `npm start` with no settings, a sign-up through the development
// outbox, `npx gatehouse …`, and stopping the server the way an orchestrator
// does. The only settings given are a free PORT (other runs share this
// machine) and a temporary DATA_DIR (instead of the checkout's .data).

const root = resolve(import.meta.dir, "..");

/** The caller's PATH without any folder holding a `bun`: Node and npm only. */
const pathWithoutBun = (process.env.PATH ?? "")
  .split(delimiter)
  .filter((dir) => dir && !existsSync(join(dir, "bun")))
  .join(delimiter);

const dataDir = await mkdtemp(join(tmpdir(), "gatehouse-fresh-"));
afterAll(() => rm(dataDir, { recursive: true, force: true }));

type Started = {
  npm: ReturnType<typeof Bun.spawn>;
  base: string;
  output: () => string;
};

/** `npm start` with a newcomer's environment; resolves once /readyz answers 200. */
async function npmStart(): Promise<Started> {
  const port = await freePort();
  const npm = Bun.spawn(["npm", "start"], {
    cwd: root,
    env: {
      PATH: pathWithoutBun,
      HOME: process.env.HOME ?? "/tmp",
      PORT: String(port),
      DATA_DIR: dataDir,
    },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let output = "";
  const decoder = new TextDecoder();
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) output += decoder.decode(chunk);
  };
  void collect(npm.stdout as ReadableStream<Uint8Array>);
  void collect(npm.stderr as ReadableStream<Uint8Array>);
  const base = `http://localhost:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (npm.exitCode !== null) throw new Error(`npm start exited early:\n${output}`);
    const status = await fetch(`${base}/readyz`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) break;
    if (Date.now() > deadline) throw new Error(`never ready:\n${output}`);
    await Bun.sleep(250);
  }
  return { npm, base, output: () => output };
}

/** Process ids under `pid` (its children, their children, ...). */
async function descendantsOf(pid: number): Promise<number[]> {
  const ps = Bun.spawn(["ps", "-e", "-o", "pid=,ppid="], { stdout: "pipe" });
  const rows = (await new Response(ps.stdout).text())
    .trim()
    .split("\n")
    .map((line) => line.trim().split(/\s+/).map(Number) as [number, number]);
  const found: number[] = [];
  const visit = (parent: number) => {
    for (const [child, ppid] of rows) {
      if (ppid === parent) {
        found.push(child);
        visit(child);
      }
    }
  };
  visit(pid);
  return found;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function stopAll(started: Started) {
  const pids = [started.npm.pid, ...(await descendantsOf(started.npm.pid))];
  started.npm.kill("SIGTERM");
  for (let i = 0; i < 100 && pids.some(alive); i++) await Bun.sleep(100);
  for (const pid of pids.filter(alive)) process.kill(pid, "SIGKILL");
}

describe("a fresh machine with Node and npm only", () => {
  test("there is no bun on the PATH these tests give npm", () => {
    expect(Bun.which("bun", { PATH: pathWithoutBun })).toBeNull();
    expect(Bun.which("npm", { PATH: pathWithoutBun })).not.toBeNull();
  });

  test("npm start with no settings carries a new user from sign-up through the development outbox to a verified, signed-in account", async () => {
    const server = await npmStart();
    try {
      const email = "newcomer@example.com";
      const password = "a long enough passphrase for a newcomer";
      const json = { "content-type": "application/json" };

      const signup = await fetch(`${server.base}/auth/signup`, {
        method: "POST",
        headers: json,
        body: JSON.stringify({ email, password }),
      });
      expect(signup.status).toBe(201);

      const outbox = await fetch(`${server.base}/dev/outbox`);
      expect(outbox.status).toBe(200);
      const { messages } = (await outbox.json()) as { messages: { to: string; text: string }[] };
      const mail = messages.find((m) => m.to === email);
      const link = mail?.text.match(/http\S+\/auth\/email\/verify\?token=(\S+)/);
      expect(link?.[1]).toBeString();
      const token = decodeURIComponent(link?.[1] ?? "");

      // Sign in first, then confirm within that session: the confirmation
      // proves the mailbox holder also holds the password.
      const login = await fetch(`${server.base}/auth/login`, {
        method: "POST",
        headers: json,
        body: JSON.stringify({ email, password }),
      });
      expect(login.status).toBe(200);
      const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
      expect(cookie).toStartWith("gatehouse_session=");

      const verify = await fetch(`${server.base}/auth/email/verify`, {
        method: "POST",
        headers: { ...json, cookie, origin: server.base },
        body: JSON.stringify({ token }),
      });
      expect(verify.status).toBe(200);

      const me = await fetch(`${server.base}/me`, {
        headers: { cookie, accept: "application/json" },
      });
      expect(me.status).toBe(200);
      expect(await me.json()).toMatchObject({ email, email_verified: true });
    } finally {
      await stopAll(server);
    }
  }, 120_000);

  test("SIGTERM to npm start stops the server and its embedded PostgreSQL", async () => {
    const server = await npmStart();
    const postmaster = Number(
      (await readFile(join(dataDir, "postgres", "postmaster.pid"), "utf8")).split("\n")[0],
    );
    const processes = await descendantsOf(server.npm.pid);
    expect(processes).toContain(postmaster);
    try {
      server.npm.kill("SIGTERM");
      const deadline = Date.now() + 10_000;
      while ([server.npm.pid, ...processes].some(alive) && Date.now() < deadline) {
        await Bun.sleep(100);
      }
      expect([server.npm.pid, ...processes].filter(alive)).toEqual([]);
      expect(existsSync(join(dataDir, "postgres", "postmaster.pid"))).toBe(false);
      expect(server.output()).toContain('"msg":"stopped"');
    } finally {
      for (const pid of [server.npm.pid, ...processes].filter(alive)) process.kill(pid, "SIGKILL");
    }
  }, 120_000);

  test.each([
    [["npx", "gatehouse", "--help"]],
    [["npm", "run", "--silent", "gatehouse", "--", "--help"]],
  ])(
    "%p runs the CLI without a bun on the PATH",
    async (command) => {
      const child = Bun.spawn(command, {
        cwd: root,
        env: { PATH: pathWithoutBun, HOME: process.env.HOME ?? "/tmp", DATA_DIR: dataDir },
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
      });
      const [code, stdout] = await Promise.all([child.exited, new Response(child.stdout).text()]);
      expect(stdout).toStartWith("usage: gatehouse <command>");
      expect(code).toBe(0);
    },
    60_000,
  );
});
