import { afterAll, describe, expect, test } from "bun:test";
import { sql } from "slonik";
import { z } from "zod";
import { webhookEventTypes } from "../src/webhooks/events.ts";
import { startTestApp } from "./support/app.ts";
import { createTestDatabase } from "./support/database.ts";
import { jsonSender } from "./support/requests.ts";
import { signedInUser } from "./support/sign-in.ts";
import { startWebhookReceiver } from "./support/webhook-receiver.ts";

// Webhooks through the front door: endpoints added over the admin API,
// events caused by real requests, deliveries received by a real HTTP server
// on 127.0.0.1 that verifies each signature with standardwebhooks' own
// Webhook.verify. Two app instances share the database, as two replicas do;
// both work the queue. Retries wait 100 ms, doubling, instead of 30 s.

const db = await createTestDatabase();
const env = { WEBHOOK_ALLOW_PRIVATE: "true", WEBHOOK_RETRY_DELAY: "100ms" };
const first = await startTestApp(db.pool, env);
const second = await startTestApp(db.pool, env);
const receiver = startWebhookReceiver();
afterAll(async () => {
  receiver.stop();
  await first.close();
  await second.close();
  await db.drop();
});

const sendTo = { first: jsonSender(first), second: jsonSender(second) };
const send = sendTo.first;
const admin = () => signedInUser(db.pool, first.config, { role: "admin", isWhitelisted: true });

const allEvents = [...webhookEventTypes];

type Added = { id: string; secret: string; url: string; events: string[] };

async function addEndpoint(cookie: string, events: string[] = allEvents): Promise<Added> {
  const response = await send("POST", "/admin/webhooks", cookie, { url: receiver.url, events });
  expect(response.status).toBe(201);
  const added = (await response.json()) as Added;
  receiver.useSecret(added.secret);
  return added;
}

async function deliveryLog(cookie: string, endpointId: string) {
  const response = await send("GET", `/admin/webhooks/${endpointId}/deliveries`, cookie);
  expect(response.status).toBe(200);
  return ((await response.json()) as { deliveries: Record<string, unknown>[] }).deliveries;
}

async function removeEndpoint(cookie: string, id: string) {
  expect((await send("DELETE", `/admin/webhooks/${id}`, cookie)).status).toBe(204);
}

const aboutUser = (userId: string) => (r: { payload: { data: Record<string, unknown> } | null }) =>
  r.payload?.data.user_id === userId;

describe("managing endpoints", () => {
  test("adding an endpoint answers its id and a whsec_ secret; the list never shows the secret", async () => {
    const { cookie } = await admin();
    const added = await addEndpoint(cookie, ["user.created"]);
    expect(added.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(added.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(added).toMatchObject({ url: receiver.url, events: ["user.created"] });

    const list = await send("GET", "/admin/webhooks", cookie);
    expect(list.status).toBe(200);
    const { webhooks } = (await list.json()) as { webhooks: Record<string, unknown>[] };
    const listed = webhooks.find((w) => w.id === added.id);
    expect(listed).toMatchObject({ url: receiver.url, events: ["user.created"] });
    expect(JSON.stringify(webhooks)).not.toContain(added.secret);
    await removeEndpoint(cookie, added.id);
  });

  test("removing an endpoint drops it and its delivery log; an unknown one is 404", async () => {
    const { cookie } = await admin();
    const added = await addEndpoint(cookie, ["login.failed"]);
    expect((await send("POST", `/admin/webhooks/${added.id}/test`, cookie)).status).toBe(202);
    await removeEndpoint(cookie, added.id);
    const left = await db.pool.oneFirst(sql.unsafe`
      SELECT count(*)::int FROM webhook_deliveries WHERE endpoint_id = ${added.id}`);
    expect(left).toBe(0);
    for (const [method, path] of [
      ["DELETE", `/admin/webhooks/${added.id}`],
      ["GET", `/admin/webhooks/${added.id}/deliveries`],
      ["POST", `/admin/webhooks/${added.id}/test`],
      ["DELETE", "/admin/webhooks/not-an-id"],
    ] as const) {
      const response = await send(method, path, cookie);
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ code: "webhook_not_found" });
    }
  });

  test("adding and removing endpoints are audited without the URL's path or the secret", async () => {
    const { user, cookie } = await admin();
    const added = await addEndpoint(cookie, ["user.denied"]);
    await removeEndpoint(cookie, added.id);
    const events = await db.pool.any(sql.type(
      z.object({ event_type: z.string(), context: z.unknown() }),
    )`
      SELECT event_type, context FROM audit_events
      WHERE actor_id = ${user.id} AND event_type LIKE 'admin.webhook_%' ORDER BY occurred_at`);
    expect(events.map((e) => e.event_type)).toEqual([
      "admin.webhook_added",
      "admin.webhook_removed",
    ]);
    expect(events[0]?.context).toEqual({
      webhook_id: added.id,
      host: new URL(receiver.url).host,
      events: ["user.denied"],
    });
    expect(JSON.stringify(events)).not.toContain(added.secret);
  });
});

describe("delivering", () => {
  test("every event arrives exactly once, signed, when two instances share the database", async () => {
    const { cookie } = await admin();
    const endpoint = await addEndpoint(cookie);
    const start = receiver.received.length;

    // The changes go through both instances, alternating.
    const signUp = await sendTo.second("POST", "/auth/signup", null, {
      email: "newcomer@example.com",
      password: "correct horse battery staple",
    });
    expect(signUp.status).toBe(201);
    const newcomer = await db.pool.oneFirst(sql.unsafe`
      SELECT id FROM users WHERE email = 'newcomer@example.com'`);
    const wrong = await sendTo.first("POST", "/auth/login", null, {
      email: "newcomer@example.com",
      password: "not the password at all",
    });
    expect(wrong.status).toBe(401);
    const approve = await sendTo.second("PATCH", `/admin/users/${newcomer}`, cookie, {
      is_whitelisted: true,
    });
    expect(approve.status).toBe(200);
    const revoke = await sendTo.first("POST", `/admin/users/${newcomer}/sessions/revoke`, cookie);
    expect(revoke.status).toBe(200);
    const deactivate = await sendTo.second("PATCH", `/admin/users/${newcomer}`, cookie, {
      status: "inactive",
    });
    expect(deactivate.status).toBe(200);
    const remove = await sendTo.first("DELETE", `/admin/users/${newcomer}`, cookie);
    expect(remove.status).toBe(204);

    const expected = [
      "user.created",
      "user.pending",
      "login.failed",
      "user.approved",
      "session.revoked",
      "user.deactivated",
      "user.deleted",
    ];
    const mine = () => receiver.received.slice(start).filter(aboutUser(String(newcomer)));
    await receiver.waitFor(() => mine().length >= expected.length);
    // Long enough for a second replica's duplicate, were there one, to arrive.
    await Bun.sleep(1000);
    const arrived = mine();
    expect(arrived.every((r) => r.verified)).toBe(true);
    expect(arrived.map((r) => r.payload?.type).sort()).toEqual([...expected].sort());
    expect(new Set(arrived.map((r) => r.id)).size).toBe(expected.length);

    const log = await deliveryLog(cookie, endpoint.id);
    const delivered = log.filter((d) => arrived.some((r) => r.id === d.id));
    expect(delivered).toHaveLength(expected.length);
    for (const d of delivered) {
      expect(d).toMatchObject({ status: "delivered", attempts: 1, last_response_code: 204 });
    }
    await removeEndpoint(cookie, endpoint.id);
  });

  test("a delivery is the Standard Webhooks payload, without personal data", async () => {
    const { cookie } = await admin();
    const endpoint = await addEndpoint(cookie, ["user.created"]);
    const email = "payload-check@example.com";
    expect(
      (
        await send("POST", "/auth/signup", null, {
          email,
          password: "correct horse battery staple",
        })
      ).status,
    ).toBe(201);
    const userId = String(
      await db.pool.oneFirst(sql.unsafe`SELECT id FROM users WHERE email = ${email}`),
    );
    await receiver.waitFor((all) => all.some(aboutUser(userId)));
    const delivery = receiver.received.find(aboutUser(userId));
    expect(delivery?.verified).toBe(true);
    expect(delivery?.payload).toEqual({
      type: "user.created",
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      data: { user_id: userId, method: "password" },
    });
    expect(delivery?.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(JSON.stringify(delivery)).not.toContain(email);
    await removeEndpoint(cookie, endpoint.id);
  });

  test("an endpoint gets only the events it subscribed to", async () => {
    const { cookie } = await admin();
    const endpoint = await addEndpoint(cookie, ["user.approved"]);
    const pending = await signedInUser(db.pool, first.config);
    const start = receiver.received.length;
    await send("POST", "/auth/login", null, { email: pending.user.email, password: "wrong one!" });
    expect(
      (await send("PATCH", `/admin/users/${pending.user.id}`, cookie, { is_whitelisted: true }))
        .status,
    ).toBe(200);
    await receiver.waitFor((all) => all.slice(start).some(aboutUser(pending.user.id)));
    await Bun.sleep(500);
    const arrived = receiver.received.slice(start).filter(aboutUser(pending.user.id));
    expect(arrived.map((r) => r.payload?.type)).toEqual(["user.approved"]);
    await removeEndpoint(cookie, endpoint.id);
  });

  test("a change that is refused and rolled back queues no event", async () => {
    const { user: only, cookie } = await admin();
    const endpoint = await addEndpoint(cookie, ["user.deactivated"]);
    // Every other administrator is gone, so deactivating this one would leave none.
    await db.pool.query(sql.unsafe`
      UPDATE users SET role = 'user' WHERE role = 'admin' AND id <> ${only.id}`);
    const refused = await send("PATCH", `/admin/users/${only.id}`, cookie, { status: "inactive" });
    expect(refused.status).toBe(409);
    const queued = await db.pool.oneFirst(sql.unsafe`
      SELECT count(*)::int FROM webhook_deliveries WHERE endpoint_id = ${endpoint.id}`);
    expect(queued).toBe(0);
    await removeEndpoint(cookie, endpoint.id);
  });

  test("a receiver that fails three times gets the event on the fourth attempt", async () => {
    const { cookie } = await admin();
    const endpoint = await addEndpoint(cookie, ["user.denied"]);
    receiver.failNext(3, 503);
    const start = receiver.received.length;
    const queued = await send("POST", `/admin/webhooks/${endpoint.id}/test`, cookie);
    expect(queued.status).toBe(202);
    const { id } = (await queued.json()) as { id: string };
    const attempts = () => receiver.received.slice(start).filter((r) => r.id === id);
    await receiver.waitFor(() => attempts().length >= 4);
    await Bun.sleep(500);
    expect(attempts()).toHaveLength(4);
    expect(attempts().every((r) => r.verified && r.payload?.type === "webhook.test")).toBe(true);
    const [logged] = (await deliveryLog(cookie, endpoint.id)).filter((d) => d.id === id);
    expect(logged).toMatchObject({
      event_type: "webhook.test",
      status: "delivered",
      attempts: 4,
      last_response_code: 204,
      last_error: null,
    });
    await removeEndpoint(cookie, endpoint.id);
  });
});
