import { describe, expect, test } from "bun:test";
import { sql } from "slonik";
import { z } from "zod";
import { parseConfig } from "../src/config/index.ts";
import { nextAttemptAt } from "../src/webhooks/delivery-worker.ts";
import { checkedEndpointUrl } from "../src/webhooks/endpoints.ts";
import { newWebhookSecret } from "../src/webhooks/signing.ts";
import { jsonSender } from "./support/requests.ts";
import { signedInUser } from "./support/sign-in.ts";
import { plantWebhookEndpoint } from "./support/webhook-endpoints.ts";
import { webhookTestSetup } from "./support/webhook-receiver.ts";

// Which URLs an endpoint may have, what bad input answers, who may change
// endpoints, and what the delivery does when the address it finds then is
// refused. This app runs without WEBHOOK_ALLOW_PRIVATE, as production does:
// no request is ever sent to a refused address (only 127.0.0.1 is used).

// Retries 100 ms apart, doubling, for 2 s after the event.
const { db, app, receiver } = await webhookTestSetup({
  WEBHOOK_RETRY_DELAY: "100ms",
  WEBHOOK_RETRY_WINDOW: "2s",
});

const send = jsonSender(app);
const admin = () => signedInUser(db.pool, app.config, { role: "admin", isWhitelisted: true });
const endpointCount = () =>
  db.pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM webhook_endpoints`);

async function expectUrlRefused(cookie: string, url: string) {
  const response = await send("POST", "/admin/webhooks", cookie, { url, events: ["user.created"] });
  expect(response.status).toBe(400);
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  const body = (await response.json()) as { code: string; errors: { pointer: string }[] };
  expect(body.code).toBe("validation_failed");
  expect(body.errors.map((e) => e.pointer)).toEqual(["#/url"]);
  return body;
}

describe("target addresses", () => {
  test("a loopback, link-local, private or unique-local URL is refused without WEBHOOK_ALLOW_PRIVATE", async () => {
    const { cookie } = await admin();
    const before = await endpointCount();
    const port = new URL(receiver.url).port;
    for (const url of [
      receiver.url,
      `http://localhost:${port}/hook`,
      "http://[::1]/hook",
      "http://[::ffff:127.0.0.1]/hook",
      "http://[::ffff:a00:1]/hook",
      "http://[64:ff9b::a9fe:a9fe]/hook",
      "http://169.254.169.254/latest/meta-data",
      "http://10.1.2.3/hook",
      "http://172.16.0.1/hook",
      "http://192.168.1.1/hook",
      "http://100.64.0.1/hook",
      "http://0.0.0.0/hook",
      "http://2130706433/hook",
      "http://[fd00::1]/hook",
      "http://[fe80::1]/hook",
    ]) {
      const body = await expectUrlRefused(cookie, url);
      expect(JSON.stringify(body)).toContain("WEBHOOK_ALLOW_PRIVATE");
    }
    expect(await endpointCount()).toBe(before);
    expect(receiver.received).toHaveLength(0);
  });

  test("a host that does not resolve is refused", async () => {
    const { cookie } = await admin();
    const before = await endpointCount();
    await expectUrlRefused(cookie, "https://no-such-host.invalid/hook");
    expect(await endpointCount()).toBe(before);
  });

  test("an address refused at delivery time is not sent to; retried for the window, the delivery is marked failed", async () => {
    // As if the endpoint's name pointed elsewhere when it was added and at
    // 127.0.0.1 now (DNS rebinding): the row is written as it was then.
    const { cookie } = await admin();
    const endpoint = await plantWebhookEndpoint(db.pool, app.config, {
      url: receiver.url,
      events: ["user.created"],
      secret: newWebhookSecret(),
      createdBy: null,
    });
    const queued = await send("POST", `/admin/webhooks/${endpoint.id}/test`, cookie);
    expect(queued.status).toBe(202);
    const { id } = (await queued.json()) as { id: string };
    const delivery = () =>
      db.pool.one(
        sql.type(
          z.object({
            status: z.string(),
            attempts: z.number(),
            last_error: z.string().nullable(),
            next_attempt_at: z.date().nullable(),
          }),
        )`SELECT status, attempts, last_error, next_attempt_at FROM webhook_deliveries WHERE id = ${id}`,
      );
    for (let i = 0; i < 400 && (await delivery()).status === "pending"; i++) await Bun.sleep(25);
    const settled = await delivery();
    expect(settled).toMatchObject({ status: "failed", next_attempt_at: null });
    expect(settled.attempts).toBeGreaterThanOrEqual(3);
    expect(settled.last_error).toContain("private address");
    expect(receiver.received).toHaveLength(0);
  });

  test("in production a webhook URL must use https", async () => {
    const config = parseConfig({ NODE_ENV: "production", DATABASE_URL: "postgres://db/x" });
    const refused = checkedEndpointUrl("http://hooks.example.com/gatehouse", config);
    await expect(refused).rejects.toMatchObject({
      code: "validation_failed",
      details: { errors: [{ pointer: "#/url", detail: "Webhook URLs must use https." }] },
    });
  });
});

describe("bad input", () => {
  test("a malformed endpoint is refused as problem+json naming the field, and nothing is written", async () => {
    const { cookie } = await admin();
    const before = await endpointCount();
    const cases: [unknown, string][] = [
      [{ events: ["user.created"] }, "#/url"],
      [{ url: receiver.url, events: [] }, "#/events"],
      [{ url: receiver.url, events: ["user.exploded"] }, "#/events/0"],
      [{ url: receiver.url, events: ["user.created", "user.created"] }, "#/events"],
      [{ url: receiver.url, events: ["user.created"], secret: "mine" }, "#/"],
      [{ url: "ftp://files.example.com/", events: ["user.created"] }, "#/url"],
      [{ url: "not a url", events: ["user.created"] }, "#/url"],
      [{ url: "https://user:pass@hooks.example.com/", events: ["user.created"] }, "#/url"],
    ];
    for (const [body, pointer] of cases) {
      const response = await send("POST", "/admin/webhooks", cookie, body);
      expect(response.status).toBe(400);
      const problem = (await response.json()) as { code: string; errors: { pointer: string }[] };
      expect(problem.code).toBe("validation_failed");
      expect(problem.errors.map((e) => e.pointer)).toContain(pointer);
    }
    const notJson = await app.request("/admin/webhooks", {
      method: "POST",
      headers: { cookie, "content-type": "application/json", origin: app.config.http.PUBLIC_URL },
      body: "{",
    });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ code: "malformed_json" });
    expect(await endpointCount()).toBe(before);
  });
});

describe("who may change endpoints", () => {
  test("adding, testing and removing an endpoint need a recent sign-in; the lists do not", async () => {
    const { user, cookie } = await admin();
    const endpoint = await plantWebhookEndpoint(db.pool, app.config, {
      url: "https://hooks.example.com/gatehouse",
      events: ["user.created"],
      secret: newWebhookSecret(),
      createdBy: user.id,
    });
    await db.pool.query(sql.unsafe`
      UPDATE sessions SET authenticated_at = now() - interval '1 day' WHERE user_id = ${user.id}`);
    for (const [method, path, body] of [
      ["POST", "/admin/webhooks", { url: "https://hooks.example.com/", events: ["user.created"] }],
      ["POST", `/admin/webhooks/${endpoint.id}/test`, undefined],
      ["DELETE", `/admin/webhooks/${endpoint.id}`, undefined],
    ] as const) {
      const response = await send(method, path, cookie, body);
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ code: "reauth_required" });
    }
    expect((await send("GET", "/admin/webhooks", cookie)).status).toBe(200);
    expect((await send("GET", `/admin/webhooks/${endpoint.id}/deliveries`, cookie)).status).toBe(
      200,
    );
    const left = await db.pool.oneFirst(sql.unsafe`
      SELECT count(*)::int FROM webhook_endpoints WHERE created_by = ${user.id}`);
    expect(left).toBe(1);
    const deliveries = await db.pool.oneFirst(sql.unsafe`
      SELECT count(*)::int FROM webhook_deliveries WHERE endpoint_id = ${endpoint.id}`);
    expect(deliveries).toBe(0);
  });

  test("non-administrators get 403 from every webhook route", async () => {
    const { cookie } = await signedInUser(db.pool, app.config, { isWhitelisted: true });
    const someId = crypto.randomUUID();
    for (const [method, path] of [
      ["GET", "/admin/webhooks"],
      ["POST", "/admin/webhooks"],
      ["DELETE", `/admin/webhooks/${someId}`],
      ["GET", `/admin/webhooks/${someId}/deliveries`],
      ["POST", `/admin/webhooks/${someId}/test`],
    ] as const) {
      expect((await send(method, path, cookie, method === "POST" ? {} : undefined)).status).toBe(
        403,
      );
    }
  });
});

describe("retries", () => {
  test("the wait doubles after each failure and no attempt is due after the retry window", () => {
    const { webhooks } = parseConfig({});
    const created = new Date("2026-01-01T00:00:00Z");
    const after = (attempts: number, now: Date) =>
      nextAttemptAt(created, attempts, webhooks, now)?.toISOString() ?? null;
    expect(after(1, created)).toBe("2026-01-01T00:00:30.000Z");
    expect(after(2, created)).toBe("2026-01-01T00:01:00.000Z");
    expect(after(3, created)).toBe("2026-01-01T00:02:00.000Z");
    // The last attempt is at the end of the window, never after it.
    expect(after(20, new Date("2026-01-01T23:00:00Z"))).toBe("2026-01-02T00:00:00.000Z");
    expect(after(21, new Date("2026-01-02T00:00:00Z"))).toBeNull();
  });
});
