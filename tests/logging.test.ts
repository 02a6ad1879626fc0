import { afterAll, expect, test } from "bun:test";
import { Writable } from "node:stream";
import { createLogger, maskDatabaseUrl } from "../src/logger.ts";
import { startTestApp } from "./support/app.ts";
import { createTestDatabase } from "./support/database.ts";

const lines: string[] = [];
const sink = new Writable({
  write(chunk, _encoding, done) {
    lines.push(String(chunk));
    done();
  },
});
const logger = createLogger("trace", sink);
const db = await createTestDatabase();
const app = await startTestApp(
  db.pool,
  {},
  (hono) => {
    hono.post("/test/boom", () => {
      throw new Error("database password is hunter2");
    });
  },
  logger,
);
afterAll(async () => {
  await app.close();
  await db.drop();
});

test("credentials sent with a request never reach the log", async () => {
  await app.request("/me?token=query-secret", {
    headers: { authorization: "Bearer header-secret", cookie: "gatehouse_session=cookie-secret" },
  });
  await app.request("/test/boom", {
    method: "POST",
    headers: { "content-type": "application/json", origin: app.config.http.PUBLIC_URL },
    body: JSON.stringify({ password: "body-secret" }),
  });
  const log = lines.join("");
  expect(log).toContain('"path":"/me"');
  for (const secret of ["query-secret", "header-secret", "cookie-secret", "body-secret"]) {
    expect(log).not.toContain(secret);
  }
});

test("an unexpected error is a 500 problem with a request id, logged but not shown to the client", async () => {
  const response = await app.request("/test/boom", {
    method: "POST",
    headers: { origin: app.config.http.PUBLIC_URL },
  });
  expect(response.status).toBe(500);
  const body = (await response.json()) as { request_id: string; detail: string };
  expect(JSON.stringify(body)).not.toContain("hunter2");
  expect(body.request_id).toBe(response.headers.get("x-request-id") ?? "");
  expect(lines.join("")).toContain(body.request_id);
});

test("credential fields of logged objects are redacted", () => {
  logger.info(
    { body: { password: "p1", new_password: "p2", token: "t1", refresh_token: "t2" } },
    "x",
  );
  const last = lines.at(-1) ?? "";
  for (const secret of ['"p1"', '"p2"', '"t1"', '"t2"']) expect(last).not.toContain(secret);
  expect(last).toContain("[redacted]");
});

test("database URLs are logged with their password masked", () => {
  expect(maskDatabaseUrl("postgres://app:s3cret@db:5432/gatehouse")).toBe(
    "postgres://app:***@db:5432/gatehouse",
  );
});
