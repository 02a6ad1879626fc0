import { describe, expect, test } from "bun:test";
import * as client from "openid-client";
import { sql } from "slonik";
import {
  allowConsent,
  authorizationUrl,
  browse,
  callbackFor,
  discover,
  postLogoutUri,
  providerTestSetup,
  redirectUri,
  registerClient,
  signInThrough,
} from "./support/relying-party.ts";
import { cookieHeader, cookiesSet, postForm } from "./support/requests.ts";
import { approvedPasswordUser, knownPassword, signedInUser } from "./support/sign-in.ts";
import { nextCode, stepNow, totpCode } from "./support/totp.ts";

// Gatehouse as an OpenID Connect provider, through a real relying party
// (openid-client) configured only by discovery, against the real app.

const { db, app, issuer, relyingParty, member } = await providerTestSetup();

const approved = (user: Parameters<typeof member>[0] = {}) =>
  member({ fullName: "Ada Lovelace", ...user });

describe("discovery", () => {
  test("names PUBLIC_URL as the issuer and the code flow's endpoints", async () => {
    const response = await app.request("/.well-known/openid-configuration");
    expect(response.status).toBe(200);
    const metadata = (await response.json()) as Record<string, unknown>;
    expect(metadata.issuer).toBe(issuer);
    expect(metadata.authorization_endpoint).toBe(`${issuer}/oauth2/authorize`);
    expect(metadata.token_endpoint).toBe(`${issuer}/oauth2/token`);
    expect(metadata.userinfo_endpoint).toBe(`${issuer}/oauth2/userinfo`);
    expect(metadata.end_session_endpoint).toBe(`${issuer}/oauth2/logout`);
    expect(metadata.jwks_uri).toBe(`${issuer}/.well-known/jwks.json`);
    expect(metadata.response_types_supported).toEqual(["code"]);
    expect(metadata.code_challenge_methods_supported).toEqual(["S256"]);
    expect(metadata.id_token_signing_alg_values_supported).toEqual(["RS256", "EdDSA"]);
    expect(metadata.authorization_response_iss_parameter_supported).toBe(true);
  });

  test("the JWKS publishes an RS256 key beside the access-token keys", async () => {
    const { keys } = (await (await app.request("/.well-known/jwks.json")).json()) as {
      keys: { kty: string; alg: string }[];
    };
    expect(keys.map((k) => k.alg).sort()).toEqual(["EdDSA", "RS256"]);
    for (const key of keys) {
      for (const secret of ["d", "p", "q", "dp", "dq", "qi"])
        expect(key).not.toHaveProperty(secret);
    }
  });
});

describe("a confidential client", () => {
  test("signs a signed-in user in; openid-client validates the ID token, nonce and all", async () => {
    const registered = await registerClient(db.pool);
    const config = await discover(app, registered);
    const { user, cookie } = await approved();
    const tokens = await signInThrough(config, cookie);
    const claims = tokens.claims();
    expect(claims?.iss).toBe(issuer);
    expect(claims?.sub).toBe(user.id);
    expect(claims?.aud).toBe(registered.clientId);
    expect(claims?.email).toBe(user.email as string);
    expect(claims?.email_verified).toBe(true);
    expect(claims?.name).toBe("Ada Lovelace");
    expect(claims?.groups).toEqual(["user"]);
    expect(typeof claims?.auth_time).toBe("number");
    expect(tokens.refresh_token).toBeUndefined();
  });

  test("authenticates with client_secret_post as well as client_secret_basic", async () => {
    const registered = await registerClient(db.pool);
    const config = await discover(app, registered, "post");
    const { cookie } = await approved();
    const tokens = await signInThrough(config, cookie);
    expect(tokens.claims()?.aud).toBe(registered.clientId);
  });

  test("the authorization response carries state and iss (RFC 9207)", async () => {
    const config = await relyingParty();
    const { cookie } = await approved();
    const { url, checks } = await authorizationUrl(config);
    const callback = await callbackFor(url, cookie);
    expect(callback.searchParams.get("state")).toBe(checks.state);
    expect(callback.searchParams.get("iss")).toBe(issuer);
    expect(callback.searchParams.get("code")).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe("a public client", () => {
  test("signs in with PKCE and no secret", async () => {
    const registered = await registerClient(db.pool, { public: true });
    expect(registered.secret).toBeNull();
    const config = await discover(app, registered);
    const { user, cookie } = await approved();
    const tokens = await signInThrough(config, cookie);
    expect(tokens.claims()?.sub).toBe(user.id);
  });
});

describe("userinfo", () => {
  test("answers the claims the granted scopes release", async () => {
    const config = await relyingParty();
    const { user, cookie } = await approved({ role: "admin" });
    const tokens = await signInThrough(config, cookie, { scope: "openid email groups" });
    const info = await client.fetchUserInfo(config, tokens.access_token, user.id);
    expect(JSON.parse(JSON.stringify(info)) as unknown).toEqual({
      sub: user.id,
      email: user.email as string,
      email_verified: true,
      groups: ["admin"],
    });
  });

  test("an unverified address is never released as email", async () => {
    const config = await relyingParty();
    const { user, cookie } = await approved({ emailVerified: false });
    const tokens = await signInThrough(config, cookie, { scope: "openid email" });
    expect(tokens.claims()?.email).toBeUndefined();
    const info = await client.fetchUserInfo(config, tokens.access_token, user.id);
    expect(JSON.parse(JSON.stringify(info)) as unknown).toEqual({
      sub: user.id,
      email_verified: false,
    });
  });

  test("a relying party's access token opens nothing else of Gatehouse", async () => {
    const config = await relyingParty();
    const { cookie } = await approved();
    const tokens = await signInThrough(config, cookie);
    const me = await app.request("/me", {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(me.status).toBe(401);
  });
});

describe("refresh tokens (offline_access)", () => {
  test("rotate; presenting a used one again revokes the family", async () => {
    const config = await relyingParty();
    const { user, cookie } = await approved();
    const tokens = await signInThrough(config, cookie, { scope: "openid email offline_access" });
    const first = tokens.refresh_token as string;
    expect(first).toBeString();
    const refreshed = await client.refreshTokenGrant(config, first);
    expect(refreshed.refresh_token).not.toBe(first);
    expect(refreshed.claims()?.sub).toBe(user.id);
    const info = await client.fetchUserInfo(config, refreshed.access_token, user.id);
    expect(info.email).toBe(user.email as string);

    await expect(client.refreshTokenGrant(config, first)).rejects.toThrow();
    await expect(
      client.refreshTokenGrant(config, refreshed.refresh_token as string),
    ).rejects.toThrow();
    await expect(client.fetchUserInfo(config, refreshed.access_token, user.id)).rejects.toThrow();
  });

  test("another client cannot redeem them", async () => {
    const config = await relyingParty();
    const other = await relyingParty();
    const { cookie } = await approved();
    const tokens = await signInThrough(config, cookie, { scope: "openid offline_access" });
    await expect(client.refreshTokenGrant(other, tokens.refresh_token as string)).rejects.toThrow();
    // Refused as unknown, not as reuse: the rightful client's token still works.
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token as string);
    expect(refreshed.access_token).toBeString();
  });

  test("a relying party's grant is listed among the user's devices under the app's name", async () => {
    const config = await relyingParty({ name: "Grafana" });
    const { cookie } = await approved();
    await signInThrough(config, cookie);
    const listed = (await (await app.request("/me/sessions", { headers: { cookie } })).json()) as {
      sessions: { kind: string; user_agent: string | null }[];
    };
    expect(listed.sessions.find((s) => s.user_agent === "Grafana")?.kind).toBe("token");
  });

  test("signing out everywhere ends a relying party's tokens", async () => {
    const config = await relyingParty();
    const { user, cookie } = await approved();
    const tokens = await signInThrough(config, cookie, { scope: "openid offline_access" });
    await db.pool.query(sql.unsafe`
      UPDATE sessions SET revoked_at = now(), revoked_reason = 'test' WHERE user_id = ${user.id}`);
    await expect(client.fetchUserInfo(config, tokens.access_token, user.id)).rejects.toThrow();
    await expect(
      client.refreshTokenGrant(config, tokens.refresh_token as string),
    ).rejects.toThrow();
  });
});

describe("the gate and the sign-in", () => {
  test("a browser that is not signed in goes through the sign-in page and comes back", async () => {
    const config = await relyingParty();
    const user = await approvedPasswordUser(db.pool, app.config);
    const { url, checks } = await authorizationUrl(config);
    const first = await browse(url, null);
    expect(first.response.status).toBe(302);
    const signInPage = new URL(first.location as string, app.url);
    expect(signInPage.pathname).toBe("/");
    const resume = signInPage.searchParams.get("redirect_to") as string;
    expect(resume).toStartWith("/oauth2/authorize?");

    const login = await postForm(app, "/auth/login", {
      email: user.email as string,
      password: knownPassword,
      redirect_to: resume,
    });
    expect(login.status).toBe(303);
    expect(login.headers.get("location")).toBe(resume);
    const cookie = Object.entries(cookiesSet(login))
      .map(([name, value]) => `${name}=${value}`)
      .join("; ");
    const callback = await callbackFor(new URL(resume, app.url), cookie);
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: checks.verifier,
      expectedState: checks.state,
      expectedNonce: checks.nonce,
    });
    expect(tokens.claims()?.sub).toBe(user.id);
  });

  test("a user with a second factor comes back to the client after giving it", async () => {
    const config = await relyingParty();
    const user = await approvedPasswordUser(db.pool, app.config);
    const json = (path: string, body: unknown, cookie?: string) =>
      app.request(path, {
        method: "POST",
        headers: { "content-type": "application/json", ...(cookie ? { cookie } : {}) },
        body: JSON.stringify(body),
      });
    const first = cookieHeader(
      cookiesSet(await json("/auth/login", { email: user.email, password: knownPassword })),
    );
    const { secret } = (await (await json("/me/mfa/totp", undefined, first)).json()) as {
      secret: string;
    };
    const confirmed = await json(
      "/me/mfa/totp/confirm",
      { code: totpCode(secret, stepNow()) },
      first,
    );
    expect(confirmed.status).toBe(200);

    const { url, checks } = await authorizationUrl(config);
    const signInPage = new URL((await browse(url, null)).location as string, app.url);
    const resume = signInPage.searchParams.get("redirect_to") as string;
    const login = await postForm(app, "/auth/login", {
      email: user.email as string,
      password: knownPassword,
      redirect_to: resume,
    });
    expect(login.status).toBe(303);
    expect(login.headers.get("location")).toStartWith("/auth/mfa?");
    const pending = cookieHeader(cookiesSet(login));
    // The first factor alone gets no code.
    const early = await browse(new URL(resume, app.url), pending);
    expect(new URL(early.location as string, app.url).pathname).toBe("/");

    const finished = await postForm(
      app,
      "/auth/mfa",
      { code: await nextCode(db.pool, user.id, secret), redirect_to: resume },
      { cookie: pending },
    );
    expect(finished.status).toBe(303);
    expect(finished.headers.get("location")).toBe(resume);
    const callback = await callbackFor(
      new URL(resume, app.url),
      cookieHeader(cookiesSet(finished)),
    );
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: checks.verifier,
      expectedState: checks.state,
      expectedNonce: checks.nonce,
    });
    expect(tokens.claims()?.sub).toBe(user.id);
    expect(tokens.claims()?.amr).toEqual(["pwd", "otp"]);
  });

  test("a user waiting for approval is sent back with access_denied", async () => {
    const config = await relyingParty();
    const { cookie } = await signedInUser(db.pool, app.config);
    const { url, checks } = await authorizationUrl(config);
    const callback = await callbackFor(url, cookie);
    expect(callback.searchParams.get("error")).toBe("access_denied");
    expect(callback.searchParams.get("state")).toBe(checks.state);
    expect(callback.searchParams.get("code")).toBeNull();
  });

  test("a deactivated user is sent back with access_denied", async () => {
    const config = await relyingParty();
    const { user, cookie } = await approved();
    await db.pool.query(sql.unsafe`UPDATE users SET status = 'inactive' WHERE id = ${user.id}`);
    const { url } = await authorizationUrl(config);
    const { response, location } = await browse(url, cookie);
    // The session no longer counts (an inactive user's): back to sign in, or refused.
    if (location?.startsWith(redirectUri)) {
      expect(new URL(location).searchParams.get("error")).toBe("access_denied");
    } else {
      expect(response.status).toBe(302);
      expect(new URL(location as string, app.url).pathname).toBe("/");
    }
  });

  test("prompt=none without a session answers login_required", async () => {
    const config = await relyingParty();
    const { url, checks } = await authorizationUrl(config, { extra: { prompt: "none" } });
    const { location } = await browse(url, null);
    const callback = new URL(location as string);
    expect(callback.href).toStartWith(redirectUri);
    expect(callback.searchParams.get("error")).toBe("login_required");
    expect(callback.searchParams.get("state")).toBe(checks.state);
    expect(callback.searchParams.get("iss")).toBe(issuer);
  });

  test("prompt=login sends a signed-in browser to sign in again", async () => {
    const config = await relyingParty();
    const { cookie } = await approved();
    const { url } = await authorizationUrl(config, { extra: { prompt: "login" } });
    const { location } = await browse(url, cookie);
    const page = new URL(location as string, app.url);
    expect(page.pathname).toBe("/");
    expect(page.searchParams.get("prompt")).toBe("login");
    const resume = new URL(page.searchParams.get("redirect_to") as string, app.url);
    expect(resume.searchParams.get("prompt")).toBeNull();
    // The old session does not pass for the fresh sign-in the resumed request wants.
    const again = await browse(resume, cookie);
    expect(new URL(again.location as string, app.url).pathname).toBe("/");
    // The sign-in page shows the form, not "Signed in".
    const html = await (await browse(page, cookie)).response.text();
    expect(html).toContain('name="password"');
  });

  test("max_age older than the session's sign-in sends the browser to sign in again", async () => {
    const config = await relyingParty();
    const { sessionId, cookie } = await approved();
    await db.pool.query(sql.unsafe`
      UPDATE sessions SET authenticated_at = now() - interval '1 hour' WHERE id = ${sessionId}`);
    const { url } = await authorizationUrl(config, { extra: { max_age: "60" } });
    const { location } = await browse(url, cookie);
    expect(new URL(location as string, app.url).searchParams.get("prompt")).toBe("login");
  });
});

describe("consent", () => {
  test("a client that is not first-party asks once per scope set", async () => {
    const config = await relyingParty({ first_party: false });
    const { cookie } = await approved();
    const { url, checks } = await authorizationUrl(config, { scope: "openid email" });
    const page = await browse(url, cookie);
    expect(page.response.status).toBe(200);
    const html = await page.response.text();
    expect(html).toContain("See your email address");
    const allowed = await allowConsent(app, html, cookie);
    expect(allowed.status).toBe(302);
    const callback = new URL(allowed.headers.get("location") as string);
    expect(callback.searchParams.get("state")).toBe(checks.state);
    expect(callback.searchParams.get("code")).toBeString();

    // Asked once: the same scopes go straight through, more scopes ask again.
    await callbackFor((await authorizationUrl(config, { scope: "openid email" })).url, cookie);
    const more = await browse(
      (await authorizationUrl(config, { scope: "openid email groups" })).url,
      cookie,
    );
    expect(more.response.status).toBe(200);
  });

  test("denying consent sends access_denied back", async () => {
    const config = await relyingParty({ first_party: false });
    const { cookie } = await approved();
    const { url } = await authorizationUrl(config);
    const fields = Object.fromEntries(url.searchParams);
    const denied = await postForm(
      app,
      "/oauth2/consent",
      { ...fields, decision: "deny" },
      { cookie, origin: issuer },
    );
    expect(new URL(denied.headers.get("location") as string).searchParams.get("error")).toBe(
      "access_denied",
    );
  });
});

describe("end-session", () => {
  test("with the user's ID token signs the browser out and goes to the registered URI", async () => {
    const config = await relyingParty();
    const { cookie, sessionId } = await approved();
    const tokens = await signInThrough(config, cookie);
    const url = client.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token as string,
      post_logout_redirect_uri: postLogoutUri,
      state: "bye",
    });
    const { response, location } = await browse(url, cookie);
    expect(response.status).toBe(302);
    expect(location).toBe(`${postLogoutUri}?state=bye`);
    const revoked = await db.pool.oneFirst(sql.unsafe`
      SELECT revoked_at IS NOT NULL FROM sessions WHERE id = ${sessionId}`);
    expect(revoked).toBe(true);
  });

  test("without an ID token asks before signing out", async () => {
    const { cookie, sessionId } = await approved();
    const { response } = await browse(`${issuer}/oauth2/logout`, cookie);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('action="/oauth2/logout"');
    const live = await db.pool.oneFirst(sql.unsafe`
      SELECT revoked_at IS NULL FROM sessions WHERE id = ${sessionId}`);
    expect(live).toBe(true);
    const confirmed = await postForm(app, "/oauth2/logout", {}, { cookie, origin: issuer });
    expect(confirmed.status).toBe(200);
    const revoked = await db.pool.oneFirst(sql.unsafe`
      SELECT revoked_at IS NOT NULL FROM sessions WHERE id = ${sessionId}`);
    expect(revoked).toBe(true);
  });

  test("never redirects to a post-logout URI the client did not register", async () => {
    const config = await relyingParty();
    const { cookie } = await approved();
    const tokens = await signInThrough(config, cookie);
    const url = client.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token as string,
      post_logout_redirect_uri: "https://evil.example/",
    });
    const { response, location } = await browse(url, cookie);
    expect(response.status).toBe(400);
    expect(location).toBeNull();
  });
});
