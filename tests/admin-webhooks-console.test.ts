import { expect, test } from "bun:test";
import { sql } from "slonik";
import { createTokenCipher, loadEncryptionKeys } from "../src/keys/token-encryption.ts";
import { webhookSecretBinding } from "../src/webhooks/endpoint-secrets.ts";
import { consoleTestSetup } from "./support/admin-console.ts";
import { testLogger } from "./support/database.ts";
import { signedInUser } from "./support/sign-in.ts";

// The console's webhooks screen through real requests: add (the secret shown
// once), the latest deliveries, a test event, removal behind its
// confirmation step.
// The endpoint is a loopback address: allowed here, refused by default.
const { pool, app, postForm, expectInvalidForms, admin, page } = await consoleTestSetup({
  WEBHOOK_ALLOW_PRIVATE: "true",
});
const endpointCount = () =>
  pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM webhook_endpoints`) as Promise<number>;

async function addEndpoint(cookie: string, url: string) {
  return postForm("/admin/forms/webhooks", cookie, [
    ["url", url],
    ["events", "user.created"],
    ["events", "user.approved"],
  ]);
}

/** Adds an endpoint through the form; its id. */
async function addedEndpointId(cookie: string, url: string) {
  await addEndpoint(cookie, url);
  return pool.oneFirst(sql.unsafe`SELECT id FROM webhook_endpoints WHERE url = ${url}`);
}

test("an administrator adds an endpoint and is shown its signing secret once", async () => {
  const { cookie } = await admin();
  const added = await addEndpoint(cookie, "http://127.0.0.1:9/added");
  expect(added.status).toBe(200);
  expect(added.headers.get("cache-control")).toBe("no-store");
  const html = await added.text();
  const secret = /whsec_[A-Za-z0-9+/=]+/.exec(html)?.[0];
  expect(secret).toBeDefined();
  const row = (await pool.one(sql.unsafe`
    SELECT id, events, secret, sealed_secret FROM webhook_endpoints
    WHERE url = 'http://127.0.0.1:9/added'`)) as { id: string; sealed_secret: string };
  // Kept sealed (tests/webhook-secrets-sealed.test.ts): what was shown is what opens.
  expect(row).toMatchObject({ events: ["user.created", "user.approved"], secret: null });
  const cipher = await createTokenCipher(await loadEncryptionKeys(app.config, testLogger));
  expect(await cipher.decrypt(row.sealed_secret, webhookSecretBinding(row.id))).toBe(
    secret as string,
  );
  const screen = await page("/admin/view/webhooks", cookie);
  expect(screen.html).toContain("http://127.0.0.1:9/added");
  expect(screen.html).not.toContain(secret as string);
});

test("an endpoint without events, or with an unknown one, is refused and nothing is added", async () => {
  const { cookie } = await admin();
  const before = await endpointCount();
  await expectInvalidForms(cookie, "/admin/forms/webhooks", "/admin/view/webhooks", [
    [["url", "http://127.0.0.1:9/none"]],
    [
      ["url", "http://127.0.0.1:9/unknown"],
      ["events", "user.exploded"],
    ],
  ]);
  expect(await endpointCount()).toBe(before);
});

test("Send a test event queues webhook.test, listed among the latest deliveries", async () => {
  const { cookie } = await admin();
  const id = await addedEndpointId(cookie, "http://127.0.0.1:9/tested");
  const sent = await postForm(`/admin/forms/webhooks/${id}/test`, cookie, {});
  expect(sent.status).toBe(303);
  expect(sent.headers.get("location")).toContain("notice=webhook_test_sent");
  const screen = await page("/admin/view/webhooks", cookie);
  expect(screen.html).toContain("webhook.test");
});

test("removing asks first; confirmed, the endpoint and its log are gone", async () => {
  const { cookie } = await admin();
  const id = await addedEndpointId(cookie, "http://127.0.0.1:9/removed");
  const unconfirmed = await postForm(`/admin/forms/webhooks/${id}/remove`, cookie, {});
  expect(unconfirmed.status).toBe(303);
  expect(unconfirmed.headers.get("location")).toBe(`/admin/view/webhooks/${id}/remove`);
  const question = await page(`/admin/view/webhooks/${id}/remove`, cookie);
  expect(question.html).toContain("Remove the webhook endpoint");
  expect(await endpointCount()).toBeGreaterThan(0);
  const confirmed = await postForm(`/admin/forms/webhooks/${id}/remove`, cookie, {
    confirmed: "yes",
  });
  expect(confirmed.headers.get("location")).toContain("notice=webhook_removed");
  const left = await pool.oneFirst(sql.unsafe`
    SELECT count(*)::int FROM webhook_endpoints WHERE id = ${id as string}`);
  expect(left).toBe(0);
});

test("a stale administrator is sent to the step-up and nothing is added", async () => {
  const { cookie, user } = await admin();
  await pool.query(sql.unsafe`
    UPDATE sessions SET authenticated_at = now() - interval '1 day' WHERE user_id = ${user.id}`);
  const before = await endpointCount();
  const response = await addEndpoint(cookie, "http://127.0.0.1:9/stale");
  expect(response.status).toBe(303);
  expect(response.headers.get("location")).toContain("error=reauth_required");
  expect(await endpointCount()).toBe(before);
});

test("a member gets the 403 page and an unknown endpoint the 404 page", async () => {
  const { cookie } = await signedInUser(pool, app.config, { isWhitelisted: true });
  expect((await page("/admin/view/webhooks", cookie)).status).toBe(403);
  const { cookie: adminCookie } = await admin();
  const unknown = await page(`/admin/view/webhooks/${crypto.randomUUID()}/remove`, adminCookie);
  expect(unknown.status).toBe(404);
});
