import { describe, expect, test } from "bun:test";
import { sql } from "slonik";
import { z } from "zod";
import { appTestSetup } from "./support/app.ts";
import { signedInUser } from "./support/sign-in.ts";

const { db, app } = await appTestSetup();

type Pair = { access_token: string; refresh_token: string };
type Device = {
  id: string;
  kind: "browser" | "token";
  created_at: string;
  last_seen_at: string;
  ip: string | null;
  user_agent: string | null;
  current: boolean;
};

const approved = () => signedInUser(db.pool, app.config, { isWhitelisted: true });

/** A token client signed in through the browser session, as a CLI would be. */
async function tokenDevice(cookie: string, userAgent = "gatehouse-cli/1.0"): Promise<Pair> {
  const response = await app.request("/auth/token/session", {
    method: "POST",
    headers: { cookie, origin: app.config.http.PUBLIC_URL, "user-agent": userAgent },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Pair;
}

const asCookie = (cookie: string) => ({ cookie, origin: app.config.http.PUBLIC_URL });
const asBearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function devices(headers: Record<string, string>): Promise<Device[]> {
  const response = await app.request("/me/sessions", { headers });
  expect(response.status).toBe(200);
  return ((await response.json()) as { sessions: Device[] }).sessions;
}

const refresh = (refreshToken: string) =>
  app.request("/auth/token", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ grant_type: "refresh_token", refresh_token: refreshToken }),
  });

const sidOf = (token: string) =>
  JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()).sid as string;

describe("GET /me/sessions", () => {
  test("lists browser and token devices with ip, agent, times and the current flag", async () => {
    const { sessionId, cookie } = await approved();
    const cli = await tokenDevice(cookie);

    const seenByBrowser = await devices(asCookie(cookie));
    expect(seenByBrowser).toHaveLength(2);
    const browser = seenByBrowser.find((d) => d.id === sessionId);
    const token = seenByBrowser.find((d) => d.id === sidOf(cli.access_token));
    expect(browser).toMatchObject({ kind: "browser", current: true, user_agent: "test" });
    expect(token).toMatchObject({
      kind: "token",
      current: false,
      user_agent: "gatehouse-cli/1.0",
      ip: "127.0.0.1",
    });
    expect(Date.parse(token?.created_at ?? "")).toBeGreaterThan(Date.now() - 60_000);
    expect(token?.last_seen_at).toBeString();

    const seenByCli = await devices(asBearer(cli.access_token));
    expect(seenByCli.find((d) => d.current)?.id).toBe(sidOf(cli.access_token));
  });

  test("shows only the caller's own devices", async () => {
    const alice = await approved();
    const bob = await approved();
    const listed = await devices(asCookie(alice.cookie));
    expect(listed.map((d) => d.id)).toEqual([alice.sessionId]);
    expect(listed.map((d) => d.id)).not.toContain(bob.sessionId);
  });

  test("is for approved users only", async () => {
    const pending = await signedInUser(db.pool, app.config);
    const response = await app.request("/me/sessions", { headers: asCookie(pending.cookie) });
    expect(response.status).toBe(403);
    expect((await app.request("/me/sessions")).status).toBe(401);
  });
});

describe("DELETE /me/sessions/:id", () => {
  test("revokes a token device: its refresh and access tokens stop, and it is audited", async () => {
    const { user, cookie } = await approved();
    const cli = await tokenDevice(cookie);
    const id = sidOf(cli.access_token);
    const response = await app.request(`/me/sessions/${id}`, {
      method: "DELETE",
      headers: asCookie(cookie),
    });
    expect(response.status).toBe(204);
    expect((await devices(asCookie(cookie))).map((d) => d.id)).not.toContain(id);
    expect((await refresh(cli.refresh_token)).status).toBe(400);
    expect((await app.request("/me", { headers: asBearer(cli.access_token) })).status).toBe(401);
    const revokedFamilies = await db.pool.oneFirst(sql.type(z.object({ count: z.number() }))`
      SELECT count(*)::int AS count FROM refresh_tokens
      WHERE session_id = ${id} AND revoked_at IS NULL`);
    expect(revokedFamilies).toBe(0);
    const audited = await db.pool.oneFirst(sql.type(z.object({ count: z.number() }))`
      SELECT count(*)::int AS count FROM audit_events
      WHERE user_id = ${user.id} AND event_type = 'session.revoked'
        AND context->>'session_id' = ${id}`);
    expect(audited).toBe(1);
  });

  test("another user's session is a 404, not a 403, and stays live", async () => {
    const alice = await approved();
    const bob = await approved();
    const bobCli = await tokenDevice(bob.cookie);
    for (const id of [bob.sessionId, sidOf(bobCli.access_token)]) {
      const response = await app.request(`/me/sessions/${id}`, {
        method: "DELETE",
        headers: asCookie(alice.cookie),
      });
      expect(response.status).toBe(404);
    }
    expect((await app.request("/me", { headers: asCookie(bob.cookie) })).status).toBe(200);
    expect((await refresh(bobCli.refresh_token)).status).toBe(200);
  });

  test("a malformed, unknown or already revoked id is a 404", async () => {
    const { cookie } = await approved();
    const cli = await tokenDevice(cookie);
    const id = sidOf(cli.access_token);
    const remove = (target: string) =>
      app.request(`/me/sessions/${target}`, { method: "DELETE", headers: asCookie(cookie) });
    expect((await remove("not-a-uuid")).status).toBe(404);
    expect((await remove(crypto.randomUUID())).status).toBe(404);
    expect((await remove(id)).status).toBe(204);
    expect((await remove(id)).status).toBe(404);
  });

  test("revoking the current browser session signs it out and clears the cookie", async () => {
    const { sessionId, cookie } = await approved();
    const response = await app.request(`/me/sessions/${sessionId}`, {
      method: "DELETE",
      headers: asCookie(cookie),
    });
    expect(response.status).toBe(204);
    expect(response.headers.get("set-cookie")).toContain("Max-Age=0");
    expect((await app.request("/me", { headers: asCookie(cookie) })).status).toBe(401);
  });
});

describe("DELETE /me/sessions", () => {
  test("revokes every device but the current one", async () => {
    const { user, sessionId, cookie } = await approved();
    const first = await tokenDevice(cookie);
    const second = await tokenDevice(cookie);
    const other = await signedInUser(db.pool, app.config, { isWhitelisted: true });

    // From a token client: the browser and the other client go, the caller stays.
    const response = await app.request("/me/sessions", {
      method: "DELETE",
      headers: asBearer(second.access_token),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ revoked_sessions: 2 });

    expect((await app.request("/me", { headers: asCookie(cookie) })).status).toBe(401);
    expect((await refresh(first.refresh_token)).status).toBe(400);
    expect((await app.request("/me", { headers: asBearer(first.access_token) })).status).toBe(401);
    expect((await app.request("/me", { headers: asBearer(second.access_token) })).status).toBe(200);
    expect((await refresh(second.refresh_token)).status).toBe(200);
    const left = await devices(asBearer(second.access_token));
    expect(left.map((d) => d.id)).toEqual([sidOf(second.access_token)]);
    expect(left.map((d) => d.id)).not.toContain(sessionId);
    // Another user is untouched.
    expect((await app.request("/me", { headers: asCookie(other.cookie) })).status).toBe(200);
    const audited = await db.pool.oneFirst(sql.type(z.object({ count: z.number() }))`
      SELECT count(*)::int AS count FROM audit_events
      WHERE user_id = ${user.id} AND event_type = 'session.revoked'`);
    expect(audited).toBe(1);
  });
});

describe("revoking a session by any path", () => {
  test("an administrator signing a user out ends their token devices too", async () => {
    const admin = await signedInUser(db.pool, app.config, { isWhitelisted: true, role: "admin" });
    const { user, cookie } = await approved();
    const cli = await tokenDevice(cookie);
    const response = await app.request(`/admin/users/${user.id}/sessions/revoke`, {
      method: "POST",
      headers: asCookie(admin.cookie),
    });
    expect(await response.json()).toEqual({ revoked_sessions: 2, revoked_refresh_tokens: 1 });
    expect((await refresh(cli.refresh_token)).status).toBe(400);
    expect((await app.request("/me", { headers: asBearer(cli.access_token) })).status).toBe(401);
  });

  test("a session revoked by a plain UPDATE takes its refresh-token family with it", async () => {
    const { cookie } = await approved();
    const cli = await tokenDevice(cookie);
    await db.pool.query(sql.unsafe`
      UPDATE sessions SET revoked_at = now(), revoked_reason = 'test'
      WHERE id = ${sidOf(cli.access_token)}`);
    expect((await refresh(cli.refresh_token)).status).toBe(400);
  });
});
