import { expect, test } from "bun:test";
import { sql } from "slonik";
import { z } from "zod";
import { parseConfig } from "../src/config/index.ts";
import { createTokenCipher } from "../src/keys/token-encryption.ts";
import { rotateEncryptionKeys } from "../src/ops/rotate-keys.ts";
import { webhookSecretBinding } from "../src/webhooks/endpoint-secrets.ts";
import { newWebhookSecret } from "../src/webhooks/signing.ts";
import { startTestApp, type TestApp } from "./support/app.ts";
import { testKey } from "./support/cli.ts";
import { jsonSender } from "./support/requests.ts";
import { signedInUser } from "./support/sign-in.ts";
import { webhookTestSetup } from "./support/webhook-receiver.ts";

// Webhook signing secrets at rest: sealed with TOKEN_ENCRYPTION_KEYS, bound
// to their row; deliveries still verify with standardwebhooks; rows from
// before sealing keep signing and are sealed at start-up or by rotate-keys,
// which also moves sealed ones to a new key so the old one can go.

const k1 = testKey("k1", 1);
const k2 = testKey("k2", 2);
const env = { WEBHOOK_ALLOW_PRIVATE: "true", WEBHOOK_RETRY_DELAY: "100ms" };
const { db, app, receiver } = await webhookTestSetup({ ...env, TOKEN_ENCRYPTION_KEYS: k1 });
const { pool } = db;

const keysOf = (value: string) =>
  parseConfig({ TOKEN_ENCRYPTION_KEYS: value }).providers.TOKEN_ENCRYPTION_KEYS;
const storedRow = z.object({ secret: z.string().nullable(), sealed_secret: z.string().nullable() });
const stored = (id: string) =>
  pool.one(
    sql.type(storedRow)`SELECT secret, sealed_secret FROM webhook_endpoints WHERE id = ${id}`,
  );
const admin = (on: TestApp = app) =>
  signedInUser(pool, on.config, { role: "admin", isWhitelisted: true });

async function addEndpoint(on: TestApp = app): Promise<{ id: string; secret: string }> {
  const { cookie } = await admin(on);
  const response = await jsonSender(on)("POST", "/admin/webhooks", cookie, {
    url: receiver.url,
    events: ["user.created"],
  });
  expect(response.status).toBe(201);
  return (await response.json()) as { id: string; secret: string };
}

/** An endpoint as a release from before sealing wrote it: the secret in plain text. */
async function plainEndpoint(secret: string): Promise<string> {
  return pool.oneFirst(sql.type(z.object({ id: z.string() }))`
    INSERT INTO webhook_endpoints (url, events, secret)
    VALUES (${receiver.url}, ARRAY['user.created'], ${secret}) RETURNING id`);
}

/** Sends a test event through `on` and waits until the receiver verified it. */
async function expectVerifiedDelivery(endpointId: string, secret: string, on: TestApp = app) {
  receiver.useSecret(secret);
  const { cookie } = await admin(on);
  const queued = await jsonSender(on)("POST", `/admin/webhooks/${endpointId}/test`, cookie);
  expect(queued.status).toBe(202);
  const { id } = (await queued.json()) as { id: string };
  await receiver.waitFor((received) => received.some((r) => r.id === id && r.verified));
}

test("a new endpoint's secret is stored sealed: the table holds no trace of it", async () => {
  const { id, secret } = await addEndpoint();
  const row = await stored(id);
  expect(row.secret).toBeNull();
  expect(row.sealed_secret).toMatch(/^v2\.k1\./);
  const key = secret.slice("whsec_".length);
  const dump = JSON.stringify(
    await pool.any(sql.unsafe`SELECT * FROM webhook_endpoints WHERE id = ${id}`),
  );
  expect(dump).not.toContain(key);
  expect(dump).not.toContain(Buffer.from(key, "base64").toString("hex"));
});

test("deliveries signed with a sealed secret verify with standardwebhooks", async () => {
  const { id, secret } = await addEndpoint();
  await expectVerifiedDelivery(id, secret);
});

test("an endpoint stored in plain text keeps signing, and the next start seals it", async () => {
  const secret = newWebhookSecret();
  const id = await plainEndpoint(secret);
  await expectVerifiedDelivery(id, secret);
  const restarted = await startTestApp(pool, { ...env, TOKEN_ENCRYPTION_KEYS: k1 });
  try {
    for (let i = 0; i < 100 && (await stored(id)).secret !== null; i++) await Bun.sleep(50);
    const row = await stored(id);
    expect(row.secret).toBeNull();
    expect(row.sealed_secret).toMatch(/^v2\.k1\./);
    await expectVerifiedDelivery(id, secret, restarted);
  } finally {
    await restarted.close();
  }
});

test("rotate-keys re-seals webhook secrets (and seals a plain one) so the old key can be removed", async () => {
  const sealed = await addEndpoint();
  const plainSecret = newWebhookSecret();
  const plain = await plainEndpoint(plainSecret);
  const report = await rotateEncryptionKeys({ pool, keys: keysOf(`${k2},${k1}`) });
  expect(report.after).not.toHaveProperty("k1");
  expect(report.finished).toBe(true);
  for (const id of [sealed.id, plain]) {
    const row = await stored(id);
    expect(row.secret).toBeNull();
    expect(row.sealed_secret).toMatch(/^v2\.k2\./);
  }
  const cipher = await createTokenCipher(keysOf(k2));
  expect(
    await cipher.decrypt((await stored(plain)).sealed_secret ?? "", webhookSecretBinding(plain)),
  ).toBe(plainSecret);
  // A second run finds nothing to do.
  expect((await rotateEncryptionKeys({ pool, keys: keysOf(`${k2},${k1}`) })).rows_rotated).toBe(0);

  const newKeyOnly = await startTestApp(pool, { ...env, TOKEN_ENCRYPTION_KEYS: k2 });
  try {
    await expectVerifiedDelivery(sealed.id, sealed.secret, newKeyOnly);
    await expectVerifiedDelivery(plain, plainSecret, newKeyOnly);
  } finally {
    await newKeyOnly.close();
  }
});

test("a sealed secret copied onto another endpoint does not open there: the attempt fails, naming no secret", async () => {
  const source = await addEndpoint();
  const target = await addEndpoint();
  await pool.query(sql.unsafe`
    UPDATE webhook_endpoints
    SET sealed_secret = (SELECT sealed_secret FROM webhook_endpoints WHERE id = ${source.id})
    WHERE id = ${target.id}`);
  const { cookie } = await admin();
  const queued = await jsonSender(app)("POST", `/admin/webhooks/${target.id}/test`, cookie);
  const { id } = (await queued.json()) as { id: string };
  const attempt = z.object({ attempts: z.number(), last_error: z.string().nullable() });
  let row = { attempts: 0, last_error: null as string | null };
  for (let i = 0; i < 100 && row.attempts === 0; i++) {
    await Bun.sleep(50);
    row = await pool.one(sql.type(attempt)`
      SELECT attempts, last_error FROM webhook_deliveries WHERE id = ${id}`);
  }
  expect(row.last_error).toContain("does not open");
  expect(row.last_error).not.toContain(source.secret.slice(6));
  expect(receiver.received.some((r) => r.id === id)).toBe(false);
});
