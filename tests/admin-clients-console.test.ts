import { expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { sql } from "slonik";
import { grantConsent } from "../sql/oauth-consents.ts";
import { consoleTestSetup, expectInvalidForm } from "./support/admin-console.ts";
import { postForm as crossPost } from "./support/requests.ts";
import { signedInUser } from "./support/sign-in.ts";

// The console's clients screen through real requests: register a client (its
// secret shown once), rotate a secret (the old one kept for its grace
// period), remove one behind its confirmation step; the same domain
// functions as /admin/clients, the same recent-auth and CSRF checks.

const { pool, app, postForm, expectInvalidForms, admin, page } = await consoleTestSetup();
const clientCount = () =>
  pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM oauth_clients`) as Promise<number>;
const secretIn = (html: string) => /<code>([A-Za-z0-9_-]{43})<\/code>/.exec(html)?.[1];
const clientIdIn = (html: string) =>
  /Client ID: <code>([0-9a-f-]{36})<\/code>/.exec(html)?.[1] as string;

async function register(
  cookie: string,
  name: string,
  extra: [string, string][] = [],
): Promise<Response> {
  return postForm("/admin/forms/clients", cookie, [
    ["name", name],
    ["redirect_uris", "https://app.example/callback\r\nhttps://app.example/other"],
    ["post_logout_redirect_uris", ""],
    ["allowed_scopes", "openid"],
    ["allowed_scopes", "email"],
    ...extra,
  ]);
}

/** Whether the token endpoint takes `secret` as the client's: a bogus code is then invalid_grant. */
async function secretAccepted(clientId: string, secret: string): Promise<boolean> {
  const response = await app.request("/oauth2/token", {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: `Basic ${btoa(`${clientId}:${secret}`)}`,
    },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code: "A".repeat(43),
      redirect_uri: "https://app.example/callback",
    }).toString(),
  });
  const { error } = (await response.json()) as { error: string };
  if (error !== "invalid_grant" && error !== "invalid_client") throw new Error(error);
  return error === "invalid_grant";
}

test("an administrator registers a confidential client and is shown its secret once", async () => {
  const { cookie } = await admin();
  const added = await register(cookie, "Grafana", [["first_party", "yes"]]);
  expect(added.status).toBe(200);
  expect(added.headers.get("cache-control")).toBe("no-store");
  const html = await added.text();
  const secret = secretIn(html) as string;
  const clientId = clientIdIn(html);
  expect(secret).toBeString();
  const row = (await pool.one(sql.unsafe`
    SELECT name, redirect_uris, confidential, first_party, allowed_scopes, secret_hash
    FROM oauth_clients WHERE id = ${clientId}`)) as Record<string, unknown>;
  expect(row).toMatchObject({
    name: "Grafana",
    redirect_uris: ["https://app.example/callback", "https://app.example/other"],
    confidential: true,
    first_party: true,
    allowed_scopes: ["openid", "email"],
  });
  expect(Buffer.from(row.secret_hash as Uint8Array)).toEqual(
    createHash("sha256").update(secret).digest(),
  );
  expect(await secretAccepted(clientId, secret)).toBe(true);

  const screen = await page("/admin/view/clients", cookie);
  expect(screen.status).toBe(200);
  expect(screen.html).toContain("Grafana");
  expect(screen.html).toContain(clientId);
  expect(screen.html).toContain("https://app.example/other");
  expect(screen.html).toContain("confidential");
  expect(screen.html).toContain("first-party");
  expect(screen.html).not.toContain(secret);

  const audited = await pool.oneFirst(sql.unsafe`
    SELECT count(*)::int FROM audit_events
    WHERE event_type = 'admin.client_added' AND context->>'client_id' = ${clientId}`);
  expect(audited).toBe(1);
});

test("a public client is registered without a secret and listed as public", async () => {
  const { cookie } = await admin();
  const added = await register(cookie, "Single-page app", [["public", "yes"]]);
  expect(added.status).toBe(200);
  const html = await added.text();
  expect(html).toContain("A public client has no secret");
  const clientId = clientIdIn(html);
  expect(
    await pool.oneFirst(sql.unsafe`
      SELECT confidential FROM oauth_clients WHERE id = ${clientId}`),
  ).toBe(false);
  const screen = await page("/admin/view/clients", cookie);
  expect(screen.html).toContain(
    `<td data-label="Type">public<div class="muted">ID tokens RS256</div></td>`,
  );
  // No secret to rotate: the list offers no rotation for it.
  expect(screen.html).not.toContain(`/admin/forms/clients/${clientId}/secret`);
});

test("an invalid registration is refused and nothing is added", async () => {
  const { cookie } = await admin();
  const before = await clientCount();
  await expectInvalidForms(cookie, "/admin/forms/clients", "/admin/view/clients", [
    [["name", "No redirect"]],
    [
      ["name", "Script redirect"],
      ["redirect_uris", "javascript:alert(1)"],
    ],
    [
      ["name", "With a fragment"],
      ["redirect_uris", "https://app.example/cb#x"],
    ],
    [
      ["name", "Without openid"],
      ["redirect_uris", "https://app.example/cb"],
      ["allowed_scopes", "email"],
    ],
    [
      ["name", ""],
      ["redirect_uris", "https://app.example/cb"],
    ],
  ]);
  expect(await clientCount()).toBe(before);
});

test("rotating shows the new secret once; the old one keeps working in its grace period", async () => {
  const { cookie } = await admin();
  const added = await (await register(cookie, "Gitea")).text();
  const clientId = clientIdIn(added);
  const oldSecret = secretIn(added) as string;
  const rotated = await postForm(`/admin/forms/clients/${clientId}/secret`, cookie, {});
  expect(rotated.status).toBe(200);
  expect(rotated.headers.get("cache-control")).toBe("no-store");
  const html = await rotated.text();
  expect(html).toContain("the previous secret keeps working for 24 hours");
  const newSecret = secretIn(html) as string;
  expect(newSecret).not.toBe(oldSecret);
  expect(await secretAccepted(clientId, newSecret)).toBe(true);
  expect(await secretAccepted(clientId, oldSecret)).toBe(true);
  // Past the grace period the old secret is refused.
  await pool.query(sql.unsafe`
    UPDATE oauth_clients SET previous_secret_expires_at = now() - interval '1 second'
    WHERE id = ${clientId}`);
  expect(await secretAccepted(clientId, oldSecret)).toBe(false);
  expect(await secretAccepted(clientId, newSecret)).toBe(true);
  expect((await page("/admin/view/clients", cookie)).html).not.toContain(newSecret);
});

test("rotating a public client's or an unknown client's secret is refused and changes nothing", async () => {
  const { cookie } = await admin();
  const publicId = clientIdIn(await (await register(cookie, "SPA", [["public", "yes"]])).text());
  for (const id of [publicId, crypto.randomUUID(), "not-a-uuid"]) {
    const response = await postForm(`/admin/forms/clients/${id}/secret`, cookie, {});
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/admin/view/clients?error=client_not_found");
  }
  expect(
    await pool.oneFirst(sql.unsafe`SELECT secret_hash FROM oauth_clients WHERE id = ${publicId}`),
  ).toBeNull();
});

test("removing asks to confirm first, then removes the client", async () => {
  const { cookie } = await admin();
  const clientId = clientIdIn(await (await register(cookie, "Outline")).text());
  const asked = await postForm(`/admin/forms/clients/${clientId}/remove`, cookie, {});
  expect(asked.status).toBe(303);
  expect(asked.headers.get("location")).toBe(`/admin/view/clients/${clientId}/remove`);
  expect(
    await pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM oauth_clients WHERE id = ${clientId}`),
  ).toBe(1);

  const confirm = await page(`/admin/view/clients/${clientId}/remove`, cookie);
  expect(confirm.status).toBe(200);
  expect(confirm.html).toContain("Remove the client <strong>Outline");
  expect(confirm.html).toContain("its users (0 now,");
  expect(confirm.html).toContain('name="confirmed" value="yes"');

  const removed = await postForm(`/admin/forms/clients/${clientId}/remove`, cookie, {
    confirmed: "yes",
  });
  expect(removed.status).toBe(303);
  expect(removed.headers.get("location")).toBe("/admin/view/clients?notice=client_removed");
  expect(
    await pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM oauth_clients WHERE id = ${clientId}`),
  ).toBe(0);
  expect(
    await pool.oneFirst(sql.unsafe`
      SELECT count(*)::int FROM audit_events
      WHERE event_type = 'admin.client_removed' AND context->>'client_id' = ${clientId}`),
  ).toBe(1);
});

test("the removal's confirmation counts the users who would lose access", async () => {
  const { cookie } = await admin();
  const clientId = clientIdIn(await (await register(cookie, "Counted")).text());
  for (let i = 0; i < 3; i++) {
    const { user } = await signedInUser(pool, app.config, { isWhitelisted: true });
    await grantConsent(pool, user.id, clientId, ["openid"]);
  }
  const confirm = await page(`/admin/view/clients/${clientId}/remove`, cookie);
  expect(confirm.html).toContain("its users (3 now,");
});

test("a stale administrator is sent to the step-up and nothing is added or removed", async () => {
  const fresh = await admin();
  const clientId = clientIdIn(await (await register(fresh.cookie, "Kept")).text());
  const { cookie, user } = await admin();
  await pool.query(sql.unsafe`
    UPDATE sessions SET authenticated_at = now() - interval '1 day' WHERE user_id = ${user.id}`);
  const before = await clientCount();
  for (const response of [
    await register(cookie, "Stale"),
    await postForm(`/admin/forms/clients/${clientId}/secret`, cookie, {}),
    await postForm(`/admin/forms/clients/${clientId}/remove`, cookie, { confirmed: "yes" }),
  ]) {
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toContain("error=reauth_required");
  }
  expect(await clientCount()).toBe(before);
});

test("a removal posted from another site is refused and changes nothing", async () => {
  const { cookie } = await admin();
  const clientId = clientIdIn(await (await register(cookie, "Targeted")).text());
  const response = await crossPost(
    app,
    `/admin/forms/clients/${clientId}/remove`,
    { confirmed: "yes" },
    { cookie, origin: "https://evil.example", "sec-fetch-site": "cross-site" },
  );
  expect(response.status).toBe(403);
  expect(
    await pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM oauth_clients WHERE id = ${clientId}`),
  ).toBe(1);
});

test("a member gets the 403 page and changes nothing; an unknown client's confirmation is a 404", async () => {
  const { cookie } = await signedInUser(pool, app.config, { isWhitelisted: true });
  expect((await page("/admin/view/clients", cookie)).status).toBe(403);
  const before = await clientCount();
  expect((await register(cookie, "By a member")).status).toBe(403);
  expect(await clientCount()).toBe(before);
  const { cookie: adminCookie } = await admin();
  const unknown = await page(`/admin/view/clients/${crypto.randomUUID()}/remove`, adminCookie);
  expect(unknown.status).toBe(404);
});

test("the register form offers this deployment's ID-token algorithms and takes a back-channel logout URI", async () => {
  const { cookie } = await admin();
  const { html } = await page("/admin/view/clients", cookie);
  const offered = [...html.matchAll(/<option value="(\w+)"/g)].map((m) => m[1]);
  expect(offered[0]).toBe("RS256");
  const chosen = offered.at(-1) as string;
  const added = await register(cookie, "Outline", [
    ["id_token_signed_response_alg", chosen],
    ["backchannel_logout_uri", "https://outline.example/logout"],
  ]);
  expect(added.status).toBe(200);
  const clientId = clientIdIn(await added.text());
  const row = (await pool.one(sql.unsafe`
    SELECT id_token_signed_response_alg, backchannel_logout_uri
    FROM oauth_clients WHERE id = ${clientId}`)) as Record<string, unknown>;
  expect(row).toEqual({
    id_token_signed_response_alg: chosen,
    backchannel_logout_uri: "https://outline.example/logout",
  });
  const list = await page("/admin/view/clients", cookie);
  expect(list.html).toContain(`ID tokens ${chosen}`);
  expect(list.html).toContain("https://outline.example/logout");
});

test("an ID-token algorithm the deployment does not offer is refused and nothing is registered", async () => {
  const { cookie } = await admin();
  const before = await clientCount();
  const refused = await register(cookie, "Bad alg", [["id_token_signed_response_alg", "HS256"]]);
  expectInvalidForm(refused, "/admin/view/clients");
  expect(await clientCount()).toBe(before);
});
