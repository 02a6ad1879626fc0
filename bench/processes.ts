import { freePort } from "../src/free-port.ts";

// The servers under load run as separate processes, as they would in
// production: the load generator's work never shares their event loop.

export type ServerProcess = {
  baseUrl: string;
  pid: number;
  stop: () => Promise<void>;
};

/**
 * Starts `bun <script> ...args` with `env` on its PORT (a free one when unset) and
 * waits until `readyPath` answers 200. On failure the error carries the tail
 * of the process's output, so a crash at start says why.
 */
export async function startServer({
  script,
  args = [],
  runtimeArgs = [],
  env,
  cwd,
  readyPath,
  timeoutMs = 60_000,
}: {
  script: string;
  args?: string[];
  /** Flags for bun itself, e.g. --cpu-prof. */
  runtimeArgs?: string[];
  env: Record<string, string>;
  cwd: string;
  readyPath: string;
  timeoutMs?: number;
}): Promise<ServerProcess> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const child = Bun.spawn([process.execPath, ...runtimeArgs, script, ...args], {
    cwd,
    env: { ...process.env, ...env, PORT: String(port) },
    stdout: "pipe",
    stderr: "pipe",
  });
  let output = "";
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) output = (output + decoder.decode(chunk)).slice(-4000);
  };
  void collect(child.stdout);
  void collect(child.stderr);

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`${script} exited with ${child.exitCode} at start:\n${output}`);
    }
    const ready = await fetch(`${baseUrl}${readyPath}`)
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${script} not ready after ${timeoutMs} ms:\n${output}`);
    }
    await Bun.sleep(100);
  }
  return {
    baseUrl,
    pid: child.pid,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await child.exited;
      clearTimeout(killer);
    },
  };
}
