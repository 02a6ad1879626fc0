import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { sql } from "slonik";
import { z } from "zod";
import { parseConfig } from "../src/config/index.ts";
import { newWebhookSecret } from "../src/webhooks/signing.ts";
import { startTestApp } from "./support/app.ts";
import { testKey } from "./support/cli.ts";
import { createTestDatabase } from "./support/database.ts";
import { startServer, waitForListening } from "./support/server-process.ts";
import { plantWebhookEndpoint } from "./support/webhook-endpoints.ts";
import { startWebhookReceiver } from "./support/webhook-receiver.ts";

// A replica killed (SIGKILL, no shutdown) after a change committed and
// before its webhook was acknowledged: the delivery and its job were
// committed with the change, so another replica sends it. If the killed
// worker had already taken the job, its lock is given back once it is older
// than any live attempt lasts (2 × WEBHOOK_TIMEOUT, at least + 5 s).

// A server process of its own, and a wait for the dead worker's job.
setDefaultTimeout(60_000);

const db = await createTestDatabase();
const receiver = startWebhookReceiver();
afterAll(async () => {
  receiver.release();
  receiver.stop();
  await db.drop();
});

const webhookEnv = {
  WEBHOOK_ALLOW_PRIVATE: "true",
  WEBHOOK_RETRY_DELAY: "100ms",
  WEBHOOK_TIMEOUT: "1s",
  // The killed replica, the one after it and this test seal and open with one key.
  TOKEN_ENCRYPTION_KEYS: testKey("w1", 3),
};

test("a replica killed between the change's commit and the delivery loses no event", async () => {
  const secret = newWebhookSecret();
  receiver.useSecret(secret);
  await plantWebhookEndpoint(db.pool, parseConfig({ DATABASE_URL: db.url, ...webhookEnv }), {
    url: receiver.url,
    events: ["user.created"],
    secret,
    createdBy: null,
  });
  // The receiver answers nothing, so the killed replica never learns of a success.
  receiver.hold();
  const child = startServer({
    DATABASE_URL: db.url,
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "info",
    ...webhookEnv,
  });
  let userId: string;
  try {
    const port = await waitForListening(child.stdout);
    const signUp = await fetch(`http://127.0.0.1:${port}/auth/signup`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: `http://127.0.0.1:${port}` },
      body: JSON.stringify({
        email: "survivor@example.com",
        password: "correct horse battery staple",
      }),
    });
    expect(signUp.status).toBe(201);
    userId = await db.pool.oneFirst(sql.type(z.object({ id: z.string() }))`
      SELECT id FROM users WHERE email = 'survivor@example.com'`);
  } finally {
    child.kill("SIGKILL");
  }
  await child.exited;
  receiver.release();

  const replica = await startTestApp(db.pool, webhookEnv);
  try {
    const status = () =>
      db.pool.oneFirst(sql.type(z.object({ status: z.string() }))`
        SELECT status FROM webhook_deliveries WHERE event_type = 'user.created'
          AND payload -> 'data' ->> 'user_id' = ${userId}`);
    const deadline = Date.now() + 30_000;
    while ((await status()) !== "delivered" && Date.now() < deadline) await Bun.sleep(100);
    expect(await status()).toBe("delivered");
    const arrived = receiver
      .ofType("user.created")
      .filter((r) => r.payload?.data.user_id === userId);
    expect(arrived.length).toBeGreaterThanOrEqual(1);
    // However often it was sent, it is one event: one webhook-id.
    expect(new Set(arrived.map((r) => r.id)).size).toBe(1);
  } finally {
    await replica.close();
  }
});
