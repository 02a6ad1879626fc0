import { describe, expect, test } from "bun:test";
import * as client from "openid-client";
import { sql } from "slonik";
import {
  allowConsent,
  authorizationUrl,
  browse,
  type Checks,
  discover,
  providerTestSetup,
  redirectUri,
  registerClient,
} from "./support/relying-party.ts";
import { apiRequest, formPoster, postForm } from "./support/requests.ts";

// "Apps with access": the relying parties a user consented to, or that hold
// the user's tokens, listed in the account center and at /me/apps, and
// removed from either (consent withdrawn, tokens ended). A real relying
// party (openid-client) against the real app, as in oidc-provider.test.ts.

const { db, app, issuer, relyingParty, member } = await providerTestSetup();
const post = formPoster(app);

const approved = () => member({ fullName: "Ada Lovelace" });

type Config = Awaited<ReturnType<typeof discover>>;

/** Allows the consent page the authorization request shows, then redeems the code. */
async function consentThrough(config: Config, cookie: string, scope: string) {
  const { url, checks } = await authorizationUrl(config, { scope });
  const page = await browse(url, cookie);
  expect(page.response.status).toBe(200);
  const allowed = await allowConsent(app, await page.response.text(), cookie);
  expect(allowed.status).toBe(302);
  return redeem(config, new URL(allowed.headers.get("location") as string), checks);
}

function redeem(config: Config, callback: URL, checks: Checks) {
  return client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: checks.verifier,
    expectedState: checks.state,
    expectedNonce: checks.nonce,
    idTokenExpected: true,
  });
}

/** A third-party app the user allowed `openid email offline_access`, and its tokens. */
async function consentedApp(name = "Notes") {
  const registered = await registerClient(db.pool, { name, first_party: false });
  const config = await discover(app, registered);
  const signedIn = await approved();
  const tokens = await consentThrough(config, signedIn.cookie, "openid email offline_access");
  return { ...signedIn, registered, config, tokens };
}

type AppListed = {
  client_id: string;
  name: string;
  first_party: boolean;
  scopes: string[];
  consented_at: string | null;
  signed_in: boolean;
  last_used_at: string | null;
};

async function listed(cookie: string): Promise<AppListed[]> {
  const response = await apiRequest(app, "GET", "/me/apps", { cookie });
  expect(response.status).toBe(200);
  return ((await response.json()) as { apps: AppListed[] }).apps;
}

const consentRows = (userId: string) =>
  db.pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM oauth_consents WHERE user_id = ${userId}`);

/** openid-client's refusal of a refresh: the RFC 6749 error code. */
const refreshError = (config: Config, token: string) =>
  client.refreshTokenGrant(config, token).then(
    () => "refreshed",
    (error: { error?: string }) => error.error,
  );

describe("the list", () => {
  test("an app the user consented to is listed with its scopes and when", async () => {
    const { cookie, registered } = await consentedApp("Notes");
    const apps = await listed(cookie);
    expect(apps).toHaveLength(1);
    expect(apps[0]).toMatchObject({
      client_id: registered.clientId,
      name: "Notes",
      first_party: false,
      signed_in: true,
    });
    expect(apps[0]?.scopes.toSorted()).toEqual(["email", "offline_access", "openid"]);
    expect(Date.parse(apps[0]?.consented_at as string)).toBeGreaterThan(Date.now() - 60_000);
  });

  test("a first-party app with live tokens is listed though it asked no consent", async () => {
    const registered = await registerClient(db.pool, { name: "Grafana" });
    const config = await discover(app, registered);
    const { cookie } = await approved();
    const { url, checks } = await authorizationUrl(config, { scope: "openid profile" });
    const { location } = await browse(url, cookie);
    expect(location?.startsWith(redirectUri)).toBe(true);
    await redeem(config, new URL(location as string), checks);
    const apps = await listed(cookie);
    expect(apps).toMatchObject([
      {
        client_id: registered.clientId,
        name: "Grafana",
        first_party: true,
        scopes: ["openid", "profile"],
        consented_at: null,
        signed_in: true,
      },
    ]);
  });

  test("another user's apps are not listed", async () => {
    await consentedApp();
    const { cookie } = await approved();
    expect(await listed(cookie)).toEqual([]);
  });

  test("the data export includes the app", async () => {
    const { cookie, registered } = await consentedApp("Exported");
    const response = await apiRequest(app, "GET", "/me/export", { cookie });
    const body = (await response.json()) as {
      apps_with_access: AppListed[];
      token_grants: { client_id: string | null }[];
    };
    expect(body.apps_with_access.map((a) => [a.client_id, a.name])).toEqual([
      [registered.clientId, "Exported"],
    ]);
    expect(body.token_grants.map((t) => t.client_id)).toEqual([registered.clientId]);
  });

  test("the account center shows the app and a Remove access button", async () => {
    const { cookie, registered } = await consentedApp("Wiki of the team");
    const response = await app.request("/account", { headers: { cookie } });
    const html = await response.text();
    expect(html).toContain("Apps with access");
    expect(html).toContain("Wiki of the team");
    expect(html).toContain("your email address");
    expect(html).toContain(`action="/account/apps/${registered.clientId}/remove"`);
  });
});

describe("removing access", () => {
  test("through the API, the next authorization asks again and the refresh token is refused", async () => {
    const { cookie, user, registered, config, tokens } = await consentedApp();
    const removed = await apiRequest(app, "DELETE", `/me/apps/${registered.clientId}`, { cookie });
    expect(removed.status).toBe(204);
    expect(await listed(cookie)).toEqual([]);
    expect(await consentRows(user.id)).toBe(0);

    const again = await browse(
      (await authorizationUrl(config, { scope: "openid email offline_access" })).url,
      cookie,
    );
    expect(again.response.status).toBe(200);
    expect(await again.response.text()).toContain("See your email address");
    expect(await refreshError(config, tokens.refresh_token as string)).toBe("invalid_grant");
    await expect(client.fetchUserInfo(config, tokens.access_token, user.id)).rejects.toThrow();
  });

  test("is audited as oidc.access_revoked", async () => {
    const { cookie, user, registered } = await consentedApp();
    await apiRequest(app, "DELETE", `/me/apps/${registered.clientId}`, { cookie });
    const event = await db.pool.one(sql.unsafe`
      SELECT result, context FROM audit_events
      WHERE user_id = ${user.id} AND event_type = 'oidc.access_revoked'`);
    expect(event).toMatchObject({
      result: "success",
      context: { client_id: registered.clientId, consent_removed: true, revoked_sessions: 1 },
    });
  });

  test("leaves the user's other apps and own sessions alone", async () => {
    const { cookie, user, registered } = await consentedApp("First");
    const other = await registerClient(db.pool, { name: "Second", first_party: false });
    const otherConfig = await discover(app, other);
    const otherTokens = await consentThrough(otherConfig, cookie, "openid offline_access");
    await apiRequest(app, "DELETE", `/me/apps/${registered.clientId}`, { cookie });
    expect((await listed(cookie)).map((a) => a.name)).toEqual(["Second"]);
    expect(await refreshError(otherConfig, otherTokens.refresh_token as string)).toBe("refreshed");
    expect(await consentRows(user.id)).toBe(1);
  });

  test("an app without access, an unknown id and another user's app answer 404 and change nothing", async () => {
    const owner = await consentedApp();
    const { cookie } = await approved();
    for (const id of [owner.registered.clientId, crypto.randomUUID(), "not-a-uuid"]) {
      const response = await apiRequest(app, "DELETE", `/me/apps/${id}`, { cookie });
      expect(response.status).toBe(404);
      expect(((await response.json()) as { code: string }).code).toBe("client_not_found");
    }
    expect(await consentRows(owner.user.id)).toBe(1);
    expect(await refreshError(owner.config, owner.tokens.refresh_token as string)).toBe(
      "refreshed",
    );
  });

  test("needs a session: anonymous callers get 401", async () => {
    const owner = await consentedApp();
    const response = await apiRequest(app, "DELETE", `/me/apps/${owner.registered.clientId}`);
    expect(response.status).toBe(401);
    expect(await consentRows(owner.user.id)).toBe(1);
  });

  test("of concurrent removals exactly one succeeds and one event is written", async () => {
    const { cookie, user, registered } = await consentedApp();
    const answers = await Promise.all(
      Array.from({ length: 5 }, () =>
        apiRequest(app, "DELETE", `/me/apps/${registered.clientId}`, { cookie }),
      ),
    );
    expect(answers.map((r) => r.status).toSorted()).toEqual([204, 404, 404, 404, 404]);
    expect(
      await db.pool.oneFirst(sql.unsafe`
        SELECT count(*)::int FROM audit_events
        WHERE user_id = ${user.id} AND event_type = 'oidc.access_revoked'`),
    ).toBe(1);
  });

  test("the account form asks to confirm first, then removes", async () => {
    const { cookie, user, registered, config, tokens } = await consentedApp("Notes");
    const path = `/account/apps/${registered.clientId}/remove`;
    const asked = await post(path, cookie, {});
    expect(asked.status).toBe(303);
    expect(asked.headers.get("location")).toBe(path);
    expect(await consentRows(user.id)).toBe(1);

    const confirmPage = await app.request(path, { headers: { cookie } });
    expect(confirmPage.status).toBe(200);
    const html = await confirmPage.text();
    expect(html).toContain("Remove the access of <strong>Notes</strong>");
    expect(html).toContain('name="confirmed" value="yes"');

    const done = await post(path, cookie, { confirmed: "yes" });
    expect(done.status).toBe(303);
    expect(done.headers.get("location")).toBe("/account?notice=app_removed");
    expect(await consentRows(user.id)).toBe(0);
    expect(await refreshError(config, tokens.refresh_token as string)).toBe("invalid_grant");
    const account = await (
      await app.request("/account?notice=app_removed", { headers: { cookie } })
    ).text();
    expect(account).toContain("No app signs in with this account.");
  });

  test("the account form from another site is refused and changes nothing", async () => {
    const { cookie, user, registered } = await consentedApp();
    const response = await postForm(
      app,
      `/account/apps/${registered.clientId}/remove`,
      { confirmed: "yes" },
      { cookie, origin: "https://evil.example", "sec-fetch-site": "cross-site" },
    );
    expect(response.status).toBe(403);
    expect(await consentRows(user.id)).toBe(1);
  });

  test("the account form with a malformed id is a 404 page and asks nothing", async () => {
    const { cookie } = await approved();
    const response = await post("/account/apps/not-a-client/remove", cookie, {});
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toContain("text/html");
  });

  test("the confirmation step of an app without access is a 404 page", async () => {
    const { cookie } = await approved();
    const response = await app.request(`/account/apps/${crypto.randomUUID()}/remove`, {
      headers: { cookie },
    });
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toContain("text/html");
  });
});

describe("/auth/revoke and a relying party's refresh token", () => {
  test("answers 200 as for an unknown token and revokes nothing", async () => {
    const { user, config, tokens } = await consentedApp();
    const response = await postForm(app, "/auth/revoke", {
      token: tokens.refresh_token as string,
    });
    expect(response.status).toBe(200);
    expect(await refreshError(config, tokens.refresh_token as string)).toBe("refreshed");
    const audited = await db.pool.oneFirst(sql.unsafe`
      SELECT count(*)::int FROM audit_events
      WHERE user_id = ${user.id} AND event_type = 'token.revoked'`);
    expect(audited).toBe(0);
  });
});

describe("POST /oauth2/revoke", () => {
  test("discovery names it as the revocation endpoint", async () => {
    const metadata = (await (await app.request("/.well-known/openid-configuration")).json()) as {
      revocation_endpoint: string;
    };
    expect(metadata.revocation_endpoint).toBe(`${issuer}/oauth2/revoke`);
  });

  test("the client revokes its own refresh token; the next refresh is invalid_grant", async () => {
    const { user, config, tokens } = await consentedApp();
    await client.tokenRevocation(config, tokens.refresh_token as string);
    expect(await refreshError(config, tokens.refresh_token as string)).toBe("invalid_grant");
    await expect(client.fetchUserInfo(config, tokens.access_token, user.id)).rejects.toThrow();
  });

  test("the client revokes its own access token; userinfo refuses it", async () => {
    const { user, config, tokens } = await consentedApp();
    await client.tokenRevocation(config, tokens.access_token);
    await expect(client.fetchUserInfo(config, tokens.access_token, user.id)).rejects.toThrow();
    // The refresh token was not named: it still works.
    expect(await refreshError(config, tokens.refresh_token as string)).toBe("refreshed");
  });

  test("another client's token is answered 200 and left alone", async () => {
    const owner = await consentedApp();
    const other = await relyingParty({ name: "Other" });
    await client.tokenRevocation(other, owner.tokens.refresh_token as string);
    await client.tokenRevocation(other, owner.tokens.access_token);
    expect(await refreshError(owner.config, owner.tokens.refresh_token as string)).toBe(
      "refreshed",
    );
  });

  test("a wrong secret is invalid_client and revokes nothing", async () => {
    const { registered, config, tokens } = await consentedApp();
    const response = await app.request("/oauth2/revoke", {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: `Basic ${btoa(`${registered.clientId}:wrong`)}`,
      },
      body: new URLSearchParams({ token: tokens.refresh_token as string }).toString(),
    });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: string }).error).toBe("invalid_client");
    expect(await refreshError(config, tokens.refresh_token as string)).toBe("refreshed");
  });

  test("a request without a token is invalid_request", async () => {
    const { registered } = await consentedApp();
    const response = await app.request("/oauth2/revoke", {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: `Basic ${btoa(`${registered.clientId}:${registered.secret}`)}`,
      },
      body: "",
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe("invalid_request");
  });
});
