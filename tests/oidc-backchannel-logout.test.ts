import { afterAll, describe, expect, test } from "bun:test";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { sql } from "slonik";
import {
  discover,
  providerTestSetup,
  registerClient,
  signInThrough,
} from "./support/relying-party.ts";
import { jsonSender } from "./support/requests.ts";
import { signedInUser } from "./support/sign-in.ts";

// Back-channel logout (OpenID Connect Back-Channel Logout 1.0): a relying
// party that registered a backchannel_logout_uri is sent a signed logout
// token, off the user's request, when its user's sign-in ends. The
// receiver is a real HTTP server on 127.0.0.1 that checks each token with
// jose against the provider's JWKS, as a relying party would.

const { db, app, issuer } = await providerTestSetup();
const send = jsonSender(app);
const jwks = createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`));
const logoutEvent = "http://schemas.openid.net/event/backchannel-logout";

type Received = {
  contentType: string | null;
  sub: string | null;
  aud: string | null;
  error: string | null;
};

/** A relying party's back-channel logout endpoint; `delayMs` holds every answer that long. */
function startReceiver({ delayMs = 0, failFirst = 0 } = {}) {
  const received: Received[] = [];
  let failures = failFirst;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: async (request) => {
      const contentType = request.headers.get("content-type");
      const token = new URLSearchParams(await request.text()).get("logout_token") ?? "";
      try {
        const { payload } = await jwtVerify(token, jwks, {
          issuer,
          typ: "logout+jwt",
          requiredClaims: ["iat", "exp", "jti", "events", "sub", "aud"],
        });
        if (payload.nonce !== undefined) throw new Error("a logout token has no nonce");
        if (!(payload.events as Record<string, unknown>)?.[logoutEvent])
          throw new Error("no event");
        received.push({
          contentType,
          sub: payload.sub ?? null,
          aud: String(payload.aud),
          error: null,
        });
      } catch (error) {
        received.push({ contentType, sub: null, aud: null, error: String(error) });
      }
      if (delayMs > 0) await Bun.sleep(delayMs);
      if (failures > 0) {
        failures--;
        return new Response("not now", { status: 503 });
      }
      return new Response(null, { status: 200 });
    },
  });
  afterAll(() => server.stop(true));
  return { url: `http://127.0.0.1:${server.port}/backchannel-logout`, received };
}

async function waitFor(check: () => boolean, timeoutMs = 15_000) {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error("nothing arrived in time");
    await Bun.sleep(50);
  }
}

/** A client listening at a fresh receiver, and a user signed in to it. */
async function signedInToListeningClient(receiverOptions?: {
  delayMs?: number;
  failFirst?: number;
}) {
  const receiver = startReceiver(receiverOptions);
  const registered = await registerClient(db.pool, { backchannel_logout_uri: receiver.url });
  const { user, cookie, sessionId } = await signedInUser(db.pool, app.config, {
    isWhitelisted: true,
  });
  await signInThrough(await discover(app, registered), cookie);
  return { receiver, registered, user, cookie, sessionId };
}

const signOut = (cookie: string) =>
  app.request("/auth/logout", { method: "POST", headers: { cookie, origin: issuer } });

describe("back-channel logout", () => {
  test("discovery advertises it, without sessions in the token", async () => {
    const metadata = (await (
      await app.request("/.well-known/openid-configuration")
    ).json()) as Record<string, unknown>;
    expect(metadata.backchannel_logout_supported).toBe(true);
    expect(metadata.backchannel_logout_session_supported).toBe(false);
  });

  test("signing out sends the client a logout token it verifies with the JWKS", async () => {
    const { receiver, registered, user, cookie } = await signedInToListeningClient();
    expect((await signOut(cookie)).status).toBe(204);
    await waitFor(() => receiver.received.length > 0);
    expect(receiver.received).toEqual([
      {
        contentType: "application/x-www-form-urlencoded",
        sub: user.id,
        aud: registered.clientId,
        error: null,
      },
    ]);
  });

  test("signing out everywhere tells the client", async () => {
    const { receiver, user, cookie } = await signedInToListeningClient();
    const everywhere = await send("DELETE", "/me/sessions", cookie);
    expect(everywhere.status).toBeLessThan(300);
    await waitFor(() => receiver.received.length > 0);
    expect(receiver.received[0]?.sub).toBe(user.id);
  });

  test("deactivation by an administrator tells the client", async () => {
    const { receiver, user } = await signedInToListeningClient();
    const admin = await signedInUser(db.pool, app.config, { role: "admin", isWhitelisted: true });
    const deactivated = await send("PATCH", `/admin/users/${user.id}`, admin.cookie, {
      status: "inactive",
    });
    expect(deactivated.status).toBe(200);
    await waitFor(() => receiver.received.length > 0);
    expect(receiver.received[0]?.sub).toBe(user.id);
  });

  test("a client whose tokens for the user expired is still told (its own session outlives them)", async () => {
    const { receiver, registered, user, cookie } = await signedInToListeningClient();
    await db.pool.query(sql.unsafe`
      UPDATE sessions
      SET created_at = now() - interval '2 hours', expires_at = now() - interval '1 hour'
      WHERE user_id = ${user.id} AND client_id = ${registered.clientId}`);
    await signOut(cookie);
    await waitFor(() => receiver.received.length > 0);
    expect(receiver.received[0]?.sub).toBe(user.id);
  });

  test("a client whose session for the user already ended is not told again", async () => {
    const { receiver: told, registered, user, cookie } = await signedInToListeningClient();
    await db.pool.query(sql.unsafe`
      UPDATE sessions SET revoked_at = now() - interval '1 hour', revoked_reason = 'test'
      WHERE user_id = ${user.id} AND client_id = ${registered.clientId}`);
    await signOut(cookie);
    await Bun.sleep(1500);
    expect(told.received).toEqual([]);
  });

  test("a client the user never signed in to is not told", async () => {
    const { receiver: told, cookie } = await signedInToListeningClient();
    const idle = startReceiver();
    await registerClient(db.pool, { backchannel_logout_uri: idle.url });
    await signOut(cookie);
    await waitFor(() => told.received.length > 0);
    await Bun.sleep(300);
    expect(idle.received).toEqual([]);
  });

  test("a slow relying party never holds up the sign-out", async () => {
    const { receiver, cookie } = await signedInToListeningClient({ delayMs: 3000 });
    const started = performance.now();
    expect((await signOut(cookie)).status).toBe(204);
    expect(performance.now() - started).toBeLessThan(1000);
    await waitFor(() => receiver.received.length > 0);
  });

  test("a relying party that refuses the first try is sent the token again", async () => {
    const { receiver, user, cookie } = await signedInToListeningClient({ failFirst: 1 });
    await signOut(cookie);
    await waitFor(() => receiver.received.length >= 2, 30_000);
    expect(receiver.received.map((r) => r.sub)).toEqual([user.id, user.id]);
  });

  test("a bad backchannel_logout_uri is refused at registration, and nothing is written", async () => {
    const admin = await signedInUser(db.pool, app.config, { role: "admin", isWhitelisted: true });
    const before = await db.pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM oauth_clients`);
    for (const uri of ["javascript:alert(1)", "https://rp.example/logout#x", "not a url", 42]) {
      const answer = await send("POST", "/admin/clients", admin.cookie, {
        name: "Bad",
        redirect_uris: ["https://rp.example/callback"],
        backchannel_logout_uri: uri,
      });
      expect(answer.status, String(uri)).toBe(400);
    }
    expect(await db.pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM oauth_clients`)).toBe(
      before,
    );
  });
});
