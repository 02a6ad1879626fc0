import { afterAll, expect, test } from "bun:test";
import { copyFile, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient as heyApiCreateClient } from "@hey-api/openapi-ts";
import type { Middleware } from "openapi-fetch";
import openapiTS, { astToString } from "openapi-typescript";
import { startTestApp } from "./support/app.ts";
import { createTestDatabase } from "./support/database.ts";
import { documentedAnswerChecker, type OpenApiDocument } from "./support/documented-answers.ts";
import { startTestSmtpServer, tokenFromMail } from "./support/smtp.ts";

// A client developer's path: types generated with openapi-typescript from
// the document the running app serves, the documented example client
// (docs/examples/rest-client.ts, openapi-fetch) type-checked against them by
// tsc, then run against the app, every answer checked against its schema.

const root = join(import.meta.dir, "..");
const example = join(root, "docs/examples/rest-client.ts");
const adminEmail = "ada@example.com";
const password = "correct horse battery staple";

const db = await createTestDatabase();
const smtp = await startTestSmtpServer();
const app = await startTestApp(db.pool, { SMTP_URL: smtp.url, ADMIN_EMAILS: adminEmail });
const workDirs: string[] = [];
afterAll(async () => {
  await app.close();
  await smtp.close();
  await db.drop();
  await Promise.all(workDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

const served = async () => (await (await app.request("/openapi.json")).json()) as OpenApiDocument;

/** A fresh directory that resolves packages from the project's node_modules, as a client project would. */
async function clientProject(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "gatehouse-client-"));
  workDirs.push(dir);
  await symlink(join(root, "node_modules"), join(dir, "node_modules"), "dir");
  return dir;
}

/** tsc over the given files as a strict client project compiles them (DOM, no Bun types). */
async function typeCheck(dir: string, files: string[], { strictest = true } = {}) {
  const compilerOptions = {
    target: "ES2022",
    module: "ESNext",
    moduleResolution: "bundler",
    lib: ["ES2022", "DOM", "DOM.Iterable"],
    types: [],
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    // The example holds to the strictest settings a client project may use;
    // generated SDKs are checked with plain strict (their own runtime is
    // not written for exactOptionalPropertyTypes).
    noUncheckedIndexedAccess: strictest,
    exactOptionalPropertyTypes: strictest,
  };
  await writeFile(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions, files }));
  const tsc = Bun.spawn(["node", join(root, "node_modules/typescript/bin/tsc"), "-p", dir], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const output = (await new Response(tsc.stdout).text()) + (await new Response(tsc.stderr).text());
  return { exitCode: await tsc.exited, output };
}

/** The example client beside types generated from `document`. */
async function exampleAgainst(document: OpenApiDocument) {
  const dir = await clientProject();
  await writeFile(join(dir, "gatehouse-api.ts"), astToString(await openapiTS(document as never)));
  await copyFile(example, join(dir, "rest-client.ts"));
  return dir;
}

// What the test calls; the example's own types are checked by tsc in its project.
type TokenPair = { access_token: string; refresh_token: string; expires_in: number };
type Client = {
  readonly tokens: TokenPair | null;
  signUp(email: string, password: string, fullName?: string): Promise<void>;
  signIn(email: string, password: string): Promise<TokenPair>;
  refresh(): Promise<TokenPair>;
  confirmEmail(token: string): Promise<{ email_verified: boolean }>;
  me(): Promise<{ email: string | null; email_verified: boolean; role: string; amr?: string[] }>;
  listUsers(query?: object): Promise<{ users: { email: string | null }[] }>;
  signOut(): Promise<void>;
};
type ExampleModule = {
  createGatehouseClient(options: { baseUrl: string; middleware?: Middleware[] }): Client;
  GatehouseError: new (...args: never[]) => Error & { status: number; code: string };
};

test("the example client type-checks against types generated from the served document and runs the account flow", async () => {
  const document = await served();
  const dir = await exampleAgainst(document);
  const checked = await typeCheck(dir, ["rest-client.ts"]);
  expect(checked.output).toBe("");
  expect(checked.exitCode).toBe(0);

  // Every answer the client receives must match the schema its operation documents.
  const check = documentedAnswerChecker(document);
  const mismatches: string[] = [];
  const answered: string[] = [];
  const documentedAnswers: Middleware = {
    async onResponse({ request, response, schemaPath }) {
      const text = await response.clone().text();
      answered.push(`${request.method} ${schemaPath} ${response.status}`);
      mismatches.push(
        ...check({
          method: request.method,
          path: schemaPath,
          status: response.status,
          contentType: response.headers.get("content-type"),
          body: text === "" ? null : JSON.parse(text),
        }),
      );
    },
  };
  const { createGatehouseClient, GatehouseError } = (await import(
    join(dir, "rest-client.ts")
  )) as ExampleModule;
  const client = createGatehouseClient({ baseUrl: app.url, middleware: [documentedAnswers] });

  await client.signUp(adminEmail, password, "Ada Lovelace");
  const link = tokenFromMail(await smtp.waitForMail(adminEmail, /Confirm/), "/auth/email/verify");
  await client.signIn(adminEmail, password);
  expect((await client.me()).email_verified).toBe(false);
  expect((await client.confirmEmail(link)).email_verified).toBe(true);

  const me = await client.me();
  expect(me).toMatchObject({ email: adminEmail, email_verified: true, role: "admin" });
  expect(me.amr).toEqual(["pwd"]);

  const before = client.tokens;
  const refreshed = await client.refresh();
  expect(refreshed.refresh_token).not.toBe(before?.refresh_token);
  expect((await client.listUsers({ limit: 10 })).users.map((u) => u.email)).toContain(adminEmail);

  await client.signOut();
  expect(client.tokens).toBeNull();
  // The revoked pair is worth nothing: not its refresh token, not its access token.
  const reuse = await app.request("/auth/token", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ grant_type: "refresh_token", refresh_token: refreshed.refresh_token }),
  });
  expect(reuse.status).toBe(400);
  const stale = await app.request("/me", {
    headers: { authorization: `Bearer ${refreshed.access_token}` },
  });
  expect(stale.status).toBe(401);
  await expect(client.me()).rejects.toBeInstanceOf(GatehouseError);

  expect(mismatches).toEqual([]);
  expect(answered).toEqual([
    "POST /auth/signup 201",
    "POST /auth/token 200",
    "GET /me 200",
    "POST /auth/email/verify 200",
    "GET /me 200",
    "POST /auth/token 200",
    "GET /admin/users 200",
    "POST /auth/revoke 200",
  ]);
}, 60_000);

test("concurrent calls refused for an expired access token share one refresh, so the single-use refresh token is spent once", async () => {
  const dir = await exampleAgainst(await served());
  const { createGatehouseClient } = (await import(join(dir, "rest-client.ts"))) as ExampleModule;
  const client = createGatehouseClient({ baseUrl: app.url });
  const email = "grace@example.com";
  await client.signUp(email, password);
  const first = await client.signIn(email, password);
  // An access token ended early (revoked) answers 401 just as an expired one does.
  const revoked = await app.request("/auth/revoke", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token: first.access_token, token_type_hint: "access_token" }),
  });
  expect(revoked.status).toBe(200);

  const answers = await Promise.all([client.me(), client.me(), client.me()]);
  expect(answers.map((a) => a.email)).toEqual([email, email, email]);
  const second = client.tokens;
  expect(second?.refresh_token).not.toBe(first.refresh_token);
  // Two refreshes at once are one: both callers get the same pair, and it works.
  const [a, b] = await Promise.all([client.refresh(), client.refresh()]);
  expect(a).toBe(b);
  expect(a.refresh_token).not.toBe(second?.refresh_token);
  expect((await client.me()).email).toBe(email);
}, 60_000);

test("types generated from a document whose TokenPair lost access_token fail to compile the client", async () => {
  const document = await served();
  const tokenPair = document.components.schemas.TokenPair as {
    properties: Record<string, unknown>;
    required: string[];
  };
  tokenPair.properties.token = tokenPair.properties.access_token;
  delete tokenPair.properties.access_token;
  tokenPair.required = tokenPair.required.map((name) => (name === "access_token" ? "token" : name));
  const dir = await exampleAgainst(document);
  const checked = await typeCheck(dir, ["rest-client.ts"]);
  expect(checked.exitCode).not.toBe(0);
  expect(checked.output).toContain("Property 'access_token' does not exist");
}, 60_000);

test("an answer that no longer matches its documented schema fails the run-time check", async () => {
  const check = documentedAnswerChecker(await served());
  const email = "linus@example.com";
  await app.request("/auth/signup", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  const tokens = (await (
    await app.request("/auth/token", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ grant_type: "password", email, password }),
    })
  ).json()) as TokenPair;
  const response = await app.request("/me", {
    headers: { authorization: `Bearer ${tokens.access_token}` },
  });
  const me = (await response.json()) as Record<string, unknown>;
  const answer = {
    method: "GET",
    path: "/me",
    status: 200,
    contentType: response.headers.get("content-type"),
  };
  expect(check({ ...answer, body: me })).toEqual([]);
  expect(check({ ...answer, body: { ...me, email_verified: "no" } })).not.toEqual([]);
  expect(check({ ...answer, body: { ...me, nickname: "lin" } })).not.toEqual([]);
  const { role: _, ...withoutRole } = me;
  expect(check({ ...answer, body: withoutRole })).not.toEqual([]);
});

test("docs/rest-clients.md shows the example client as it is", async () => {
  const page = await Bun.file(join(root, "docs/rest-clients.md")).text();
  const shown = /\]\(examples\/rest-client\.ts\)[\s\S]*?```ts\n([\s\S]*?)```/.exec(page)?.[1];
  expect(shown).toBe(await Bun.file(example).text());
});

test("@hey-api/openapi-ts also accepts the served document, and its SDK compiles", async () => {
  const dir = await clientProject();
  const input = join(dir, "openapi.json");
  await writeFile(input, JSON.stringify(await served()));
  await heyApiCreateClient({ input, output: join(dir, "sdk"), logs: { level: "silent" } });
  const sdk = await Bun.file(join(dir, "sdk/sdk.gen.ts")).text();
  for (const operation of ["signUp", "issueToken", "getMe", "listUsers", "revokeToken"]) {
    expect(sdk).toContain(`export const ${operation} =`);
  }
  const checked = await typeCheck(dir, ["sdk/index.ts"], { strictest: false });
  expect(checked.output).toBe("");
  expect(checked.exitCode).toBe(0);
}, 60_000);
