import { expect } from "bun:test";

// The server as an operator starts it: `bun src/main.ts` in a process of its
// own, with only the given environment (plus PATH/HOME), read through its
// JSON log.

export function startServer(env: Record<string, string>) {
  return Bun.spawn([process.execPath, "src/main.ts"], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
}

type LogLine = { msg: string; url?: string; retryInMs?: number };

/** The server's JSON log lines as they come; `until` reads on until a line matches. */
export function readLog(stdout: ReadableStream<Uint8Array>) {
  const reader = stdout.getReader();
  const decoder = new TextDecoder();
  const lines: LogLine[] = [];
  let partial = "";
  return {
    lines,
    async until(match: (line: LogLine) => boolean): Promise<LogLine> {
      for (;;) {
        const found = lines.find(match);
        if (found) return found;
        const { done, value } = await reader.read();
        if (done) throw new Error(`server exited: ${JSON.stringify(lines)}`);
        partial += decoder.decode(value);
        const complete = partial.split("\n");
        partial = complete.pop() ?? "";
        lines.push(...complete.filter(Boolean).map((l) => JSON.parse(l) as LogLine));
      }
    },
  };
}

/** Reads the server's log until the "listening" line; returns its port. */
export async function waitForListening(stdout: ReadableStream<Uint8Array>): Promise<number> {
  const listening = await readLog(stdout).until((l) => l.msg === "listening");
  return Number(new URL(listening.url ?? "").port);
}

/**
 * Starts the server on a free port of 127.0.0.1 with `env`, expects /readyz to
 * answer 200, then stops it with SIGTERM and expects a clean exit.
 */
export async function expectReadyThenCleanStop(env: Record<string, string>) {
  const child = startServer({ PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", ...env });
  try {
    const port = await waitForListening(child.stdout);
    expect(port).toBeGreaterThan(0);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
  } finally {
    child.kill("SIGTERM");
  }
  expect(await child.exited).toBe(0);
}
