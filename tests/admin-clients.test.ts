import { describe, expect, test } from "bun:test";
import { sql } from "slonik";
import { appTestSetup } from "./support/app.ts";
import { jsonSender } from "./support/requests.ts";
import { signedInUser } from "./support/sign-in.ts";

// /admin/clients: the OpenID provider's clients through the admin API.

const { db, app } = await appTestSetup();
const send = jsonSender(app);
const admin = await signedInUser(db.pool, app.config, { role: "admin", isWhitelisted: true });
const member = await signedInUser(db.pool, app.config, { isWhitelisted: true });

const newClient = {
  name: "Grafana",
  redirect_uris: ["https://grafana.example/login/generic_oauth"],
  first_party: true,
};

describe("/admin/clients", () => {
  test("an administrator adds a client and sees its secret once", async () => {
    const created = await send("POST", "/admin/clients", admin.cookie, newClient);
    expect(created.status).toBe(201);
    const body = (await created.json()) as { client_id: string; client_secret: string };
    expect(body.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const listed = (await (await send("GET", "/admin/clients", admin.cookie)).json()) as {
      clients: { client_id: string }[];
    };
    expect(listed.clients.map((c) => c.client_id)).toContain(body.client_id);
    expect(JSON.stringify(listed)).not.toContain(body.client_secret);
  });

  test("an administrator removes a client; removing it again is 404", async () => {
    const created = (await (
      await send("POST", "/admin/clients", admin.cookie, newClient)
    ).json()) as { client_id: string };
    const removed = await send("DELETE", `/admin/clients/${created.client_id}`, admin.cookie);
    expect(removed.status).toBe(204);
    const again = await send("DELETE", `/admin/clients/${created.client_id}`, admin.cookie);
    expect(again.status).toBe(404);
    expect(((await again.json()) as { code: string }).code).toBe("client_not_found");
  });

  test("rotating a secret answers a new one; a public client has none to rotate", async () => {
    const created = (await (
      await send("POST", "/admin/clients", admin.cookie, { ...newClient, public: true })
    ).json()) as { client_id: string; client_secret: string | null };
    expect(created.client_secret).toBeNull();
    const rotated = await send("POST", `/admin/clients/${created.client_id}/secret`, admin.cookie);
    expect(rotated.status).toBe(404);
  });

  test("bad input is a 400 problem naming the field, and writes nothing", async () => {
    const before = await db.pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM oauth_clients`);
    for (const body of [
      {},
      { ...newClient, redirect_uris: [] },
      { ...newClient, redirect_uris: ["javascript:alert(1)"] },
      { ...newClient, redirect_uris: ["https://x.example/#frag"] },
      { ...newClient, allowed_scopes: ["email"] },
      { ...newClient, name: "a\u0000b" },
      { ...newClient, extra: true },
    ]) {
      const answer = await send("POST", "/admin/clients", admin.cookie, body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.headers.get("content-type")).toBe("application/problem+json");
    }
    for (const id of ["not-a-uuid", crypto.randomUUID()]) {
      expect((await send("DELETE", `/admin/clients/${id}`, admin.cookie)).status).toBe(404);
      expect((await send("POST", `/admin/clients/${id}/secret`, admin.cookie)).status).toBe(404);
    }
    const after = await db.pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM oauth_clients`);
    expect(after).toBe(before);
  });

  test("an ID token algorithm this server does not offer is refused, and nothing is written", async () => {
    // This app's access-token key is Ed25519: it offers RS256 and EdDSA.
    const rows = sql.unsafe`
      SELECT (SELECT count(*) FROM oauth_clients)::int
           + (SELECT count(*) FROM audit_events WHERE event_type = 'admin.client_added')::int`;
    const before = await db.pool.oneFirst(rows);
    for (const alg of ["ES256", "HS256", "none", "", 256]) {
      const answer = await send("POST", "/admin/clients", admin.cookie, {
        ...newClient,
        id_token_signed_response_alg: alg,
      });
      expect(answer.status, String(alg)).toBe(400);
      const problem = (await answer.json()) as { code: string; errors: { pointer: string }[] };
      expect(problem.code).toBe("validation_failed");
      expect(JSON.stringify(problem.errors)).toContain("id_token_signed_response_alg");
    }
    expect(await db.pool.oneFirst(rows)).toBe(before);
  });

  test("an offered algorithm is stored and shown", async () => {
    const created = await send("POST", "/admin/clients", admin.cookie, {
      ...newClient,
      id_token_signed_response_alg: "EdDSA",
    });
    expect(created.status).toBe(201);
    const body = (await created.json()) as {
      client_id: string;
      id_token_signed_response_alg: string;
    };
    expect(body.id_token_signed_response_alg).toBe("EdDSA");
    const stored = await db.pool.oneFirst(sql.unsafe`
      SELECT id_token_signed_response_alg FROM oauth_clients WHERE id = ${body.client_id}`);
    expect(stored).toBe("EdDSA");
  });

  test("only administrators may use it", async () => {
    for (const cookie of [null, member.cookie]) {
      const listed = await send("GET", "/admin/clients", cookie);
      expect([401, 403]).toContain(listed.status);
      const created = await send("POST", "/admin/clients", cookie, newClient);
      expect([401, 403]).toContain(created.status);
    }
  });
});
