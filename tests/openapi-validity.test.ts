import { afterAll, expect, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import { startTestApp } from "./support/app.ts";
import { createTestDatabase } from "./support/database.ts";

// The document the running app serves, as a client generator or linter
// reads it: valid OpenAPI 3.1, every reference resolving, every operation
// named, tagged and saying who may call it.

const db = await createTestDatabase();
const app = await startTestApp(db.pool, { PUBLIC_URL: "https://auth.example.org" });
afterAll(async () => {
  await app.close();
  await db.drop();
});

type Operation = {
  operationId?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  description?: string;
  responses: Record<string, unknown>;
};
type Document = {
  servers: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
};

const served = async () => (await (await app.request("/openapi.json")).json()) as Document;
const operations = (document: Document) =>
  Object.entries(document.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ at: `${method} ${path}`, op })),
  );

test("the OpenAPI 3.1 schema validator finds no error in the served document", async () => {
  const result = await new Validator().validate(await served());
  expect(result.errors ?? []).toEqual([]);
  expect(result.valid).toBe(true);
});

test("redocly lint with its recommended rules finds no error in the served document", async () => {
  const dir = await mkdtemp(join(tmpdir(), "gatehouse-openapi-"));
  try {
    const file = join(dir, "openapi.json");
    await writeFile(file, JSON.stringify(await served()));
    const lint = Bun.spawn(
      [
        "node",
        "node_modules/@redocly/cli/bin/cli.js",
        "lint",
        "--config",
        "redocly.yaml",
        "--format",
        "json",
        file,
      ],
      {
        stdout: "pipe",
        stderr: "pipe",
        env: {
          ...process.env,
          REDOCLY_TELEMETRY: "off",
          REDOCLY_SUPPRESS_UPDATE_NOTICE: "true",
        },
      },
    );
    const [output, errors] = [await new Response(lint.stdout).text(), lint.stderr];
    await lint.exited;
    const report = JSON.parse(output) as {
      totals: { errors: number; warnings: number };
      problems: { ruleId: string; severity: string; message: string }[];
    };
    expect(
      report.problems.filter((p) => p.severity === "error"),
      await new Response(errors).text(),
    ).toEqual([]);
    expect(report.totals.errors).toBe(0);
    // The warnings kept are the ones redocly.yaml lists with its reasons.
    const kept = ["operation-4xx-response", "operation-2xx-response", "info-license"];
    expect(report.problems.filter((p) => !kept.includes(p.ruleId))).toEqual([]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("every $ref in the served document resolves inside it", async () => {
  const document = await served();
  const refs: string[] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) for (const item of node) walk(item);
    else if (node && typeof node === "object") {
      for (const [key, value] of Object.entries(node)) {
        if (key === "$ref" && typeof value === "string") refs.push(value);
        else walk(value);
      }
    }
  };
  walk(document);
  const resolves = (ref: string) => {
    if (!ref.startsWith("#/")) return false;
    let node: unknown = document;
    for (const part of ref.slice(2).split("/")) {
      const key = part.replaceAll("~1", "/").replaceAll("~0", "~");
      if (!node || typeof node !== "object" || !(key in node)) return false;
      node = (node as Record<string, unknown>)[key];
    }
    return true;
  };
  expect(refs.length).toBeGreaterThan(20);
  expect(refs.filter((ref) => !resolves(ref))).toEqual([]);
  expect(Object.keys(document.components.schemas)).toEqual(
    expect.arrayContaining(["Problem", "User", "TokenPair", "Session", "AuditEvent"]),
  );
});

test("every operation has a unique operationId and a tag; only input-free public GETs list no 4xx", async () => {
  const all = operations(await served());
  const ids = all.map(({ op }) => op.operationId);
  expect(all.filter(({ op }) => !/^[a-z][A-Za-z0-9]*$/.test(op.operationId ?? ""))).toEqual([]);
  expect(new Set(ids).size).toBe(ids.length);
  expect(all.filter(({ op }) => (op.tags ?? []).length !== 1)).toEqual([]);
  // A refusal comes from a gate or from input; an operation with neither has no 4xx to list.
  const without4xx = all.filter(({ op }) => !Object.keys(op.responses).some((s) => /^4/.test(s)));
  expect(
    without4xx.filter(
      ({ at, op }) =>
        !at.startsWith("get ") ||
        op.security?.length !== 0 ||
        (op as { parameters?: unknown[] }).parameters !== undefined,
    ),
  ).toEqual([]);
  expect(all.find((o) => o.at === "patch /admin/users/{id}")?.op.responses).toHaveProperty("409");
  const byPath = Object.fromEntries(all.map(({ at, op }) => [at, op.operationId]));
  expect(byPath).toMatchObject({
    "post /auth/signup": "signUp",
    "get /me": "getMe",
    "get /me/sessions": "listMySessions",
    "post /auth/token": "issueToken",
  });
});

test("public operations say security: [], the others name the session cookie or a bearer token", async () => {
  const all = operations(await served());
  expect(all.every(({ op }) => Array.isArray(op.security))).toBe(true);
  const publicOnes = all.filter(({ op }) => op.description === "Access: anyone.");
  expect(publicOnes.length).toBeGreaterThan(10);
  expect(publicOnes.filter(({ op }) => op.security?.length !== 0)).toEqual([]);
  expect(all.find((o) => o.at === "get /me")?.op.security).toEqual([
    { sessionCookie: [] },
    { bearer: [] },
  ]);
});

test("servers name PUBLIC_URL", async () => {
  expect((await served()).servers).toEqual([{ url: "https://auth.example.org" }]);
});

test("the token and revocation endpoints document the form OAuth clients send, and JSON", async () => {
  const document = (await served()) as unknown as {
    paths: Record<string, { post: { requestBody: { content: object } } }>;
  };
  for (const path of ["/auth/token", "/auth/revoke"]) {
    expect(Object.keys(document.paths[path]?.post.requestBody.content ?? {})).toEqual([
      "application/x-www-form-urlencoded",
      "application/json",
    ]);
  }
});
