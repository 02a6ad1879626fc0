import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "slonik";
import { parseConfig } from "../src/config.ts";
import { openDatabase } from "../src/db/open-database.ts";
import { createTestDatabase, testLogger } from "./support/database.ts";

const db = await createTestDatabase();
afterAll(() => db.drop());

const bun = process.execPath;

function startServer(env: Record<string, string>) {
  return Bun.spawn([bun, "src/main.ts"], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
}

/** Reads the server's JSON log lines until the "listening" line; returns its port. */
async function waitForListening(stdout: ReadableStream<Uint8Array>): Promise<number> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of stdout) {
    buffered += decoder.decode(chunk);
    const line = buffered.split("\n").find((l) => l.includes('"msg":"listening"'));
    if (line) return Number(new URL(JSON.parse(line).url).port);
  }
  throw new Error(`server exited before listening: ${buffered}`);
}

describe("the server process", () => {
  test("a bad setting stops it with one line naming the variable and a non-zero exit", async () => {
    const child = startServer({ PORT: "abc" });
    const [code, stderr, stdout] = await Promise.all([
      child.exited,
      new Response(child.stderr).text(),
      new Response(child.stdout).text(),
    ]);
    expect(code).not.toBe(0);
    expect(stderr.trim().split("\n")).toEqual([
      "gatehouse: invalid configuration: PORT: expected an integer",
    ]);
    expect(stdout).toBe("");
  });

  test("SIGTERM lets in-flight requests finish, then exits 0", async () => {
    const child = startServer({
      DATABASE_URL: db.url,
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "info",
    });
    const port = await waitForListening(child.stdout);

    // Requests whose bodies trickle in over ~600 ms are still in flight when SIGTERM lands.
    const slowRequest = () =>
      fetch(`http://127.0.0.1:${port}/healthz`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        duplex: "half",
        body: new ReadableStream({
          async start(controller) {
            for (let i = 0; i < 6; i++) {
              controller.enqueue(new TextEncoder().encode(" "));
              await Bun.sleep(100);
            }
            controller.close();
          },
        }),
      });
    const inFlight = Array.from({ length: 10 }, slowRequest);
    await Bun.sleep(200);
    child.kill("SIGTERM");

    const responses = await Promise.all(inFlight);
    // Each was answered by the app (a 404 problem: POST /healthz has no handler), none was dropped.
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(404));
    expect(await child.exited).toBe(0);
  });
});

describe("the embedded database", () => {
  const dataDir = mkdtemp(join(tmpdir(), "gatehouse-embedded-"));
  afterAll(async () => rm(await dataDir, { recursive: true, force: true }));

  test("with no DATABASE_URL a PostgreSQL is started under DATA_DIR, and a second process reuses it", async () => {
    const config = parseConfig({ DATA_DIR: await dataDir, NODE_ENV: "test" });
    const first = await openDatabase(config, testLogger);
    try {
      expect(first.embedded).toBe(true);
      expect(new URL(first.url).hostname).toBe("127.0.0.1");
      const second = await openDatabase(config, testLogger);
      expect(second.url).toBe(first.url);
      expect(await second.pool.oneFirst(sql.unsafe`SELECT 1`)).toBe(1);
      await second.close();
      // The reusing side did not stop the server it found.
      expect(await first.pool.oneFirst(sql.unsafe`SELECT 1`)).toBe(1);
    } finally {
      await first.close();
    }
  });
});
