import { expect, test } from "bun:test";
import { jsonSender } from "./support/requests.ts";
import { signedInUser } from "./support/sign-in.ts";
import { webhookTestSetup } from "./support/webhook-receiver.ts";

// GET /metrics counts webhook delivery attempts by outcome: a receiver that
// fails once then answers 204 is one retried and one delivered attempt; an
// endpoint that always fails ends, once the (short) retry window is over, as
// retried attempts and one failed.

const { db, app, receiver } = await webhookTestSetup({
  WEBHOOK_ALLOW_PRIVATE: "true",
  WEBHOOK_RETRY_DELAY: "100ms",
  WEBHOOK_RETRY_WINDOW: "1s",
});
const send = jsonSender(app);

/** gatehouse_webhook_deliveries_total by outcome, as scraped. */
async function deliveryCounts(): Promise<Record<string, number>> {
  const text = await (await app.request("/metrics")).text();
  const counts: Record<string, number> = {};
  for (const match of text.matchAll(
    /^gatehouse_webhook_deliveries_total\{outcome="(\w+)"\} (\d+)$/gm,
  )) {
    counts[match[1] as string] = Number(match[2]);
  }
  return counts;
}

async function waitForStatus(cookie: string, endpointId: string, status: string) {
  for (let i = 0; i < 200; i++) {
    const response = await send("GET", `/admin/webhooks/${endpointId}/deliveries`, cookie);
    const { deliveries } = (await response.json()) as { deliveries: { status: string }[] };
    if (deliveries[0]?.status === status) return;
    await Bun.sleep(50);
  }
  throw new Error(`no delivery reached ${status}`);
}

test("/metrics counts webhook attempts delivered, retried and failed", async () => {
  const before = await deliveryCounts();
  expect(Object.keys(before).sort()).toEqual(["delivered", "failed", "retried"]);
  const { cookie } = await signedInUser(db.pool, app.config, {
    role: "admin",
    isWhitelisted: true,
  });
  const added = await send("POST", "/admin/webhooks", cookie, {
    url: receiver.url,
    events: ["user.created"],
  });
  const endpoint = (await added.json()) as { id: string; secret: string };
  receiver.useSecret(endpoint.secret);
  receiver.failNext(1, 503);
  expect((await send("POST", `/admin/webhooks/${endpoint.id}/test`, cookie)).status).toBe(202);
  await waitForStatus(cookie, endpoint.id, "delivered");
  const afterRetry = await deliveryCounts();
  expect(afterRetry.retried).toBe((before.retried ?? 0) + 1);
  expect(afterRetry.delivered).toBe((before.delivered ?? 0) + 1);
  expect(afterRetry.failed).toBe(before.failed ?? 0);

  // Nothing listens on port 9 of 127.0.0.1: every attempt is refused.
  const dead = await send("POST", "/admin/webhooks", cookie, {
    url: "http://127.0.0.1:9/hook",
    events: ["user.created"],
  });
  const deadId = ((await dead.json()) as { id: string }).id;
  expect((await send("POST", `/admin/webhooks/${deadId}/test`, cookie)).status).toBe(202);
  await waitForStatus(cookie, deadId, "failed");
  const afterFailure = await deliveryCounts();
  expect(afterFailure.failed).toBe((afterRetry.failed ?? 0) + 1);
  expect(afterFailure.retried).toBeGreaterThan(afterRetry.retried ?? 0);
  expect(afterFailure.delivered).toBe(afterRetry.delivered ?? 0);
});
