import { describe, expect, test } from "bun:test";
import * as client from "openid-client";
import { sql } from "slonik";
import {
  authorizationUrl,
  browse,
  callbackFor,
  discover,
  providerTestSetup,
  type RegisteredClient,
  redirectUri,
  registerClient,
} from "./support/relying-party.ts";

// What the OpenID Foundation's basic and config certification plans check a
// provider refuses, turned into tests: replayed and expired codes, redirect
// URI mismatches, nonces, PKCE downgrades, wrong secrets; and bad input on
// every route of the provider answers 4xx, never 5xx.

const { db, app, issuer, member: approved } = await providerTestSetup();

/** A raw token request, as a client library would send it. */
function tokenRequest(fields: Record<string, string>, registered?: RegisteredClient) {
  const headers: Record<string, string> = {
    "content-type": "application/x-www-form-urlencoded",
  };
  if (registered?.secret) {
    headers.authorization = `Basic ${btoa(`${registered.clientId}:${registered.secret}`)}`;
  }
  return app.request("/oauth2/token", {
    method: "POST",
    headers,
    body: new URLSearchParams({
      ...(registered && !registered.secret ? { client_id: registered.clientId } : {}),
      ...fields,
    }).toString(),
  });
}

/** A fresh code for `registered`, from a signed-in browser, with its PKCE verifier. */
async function freshCode(registered: RegisteredClient, options?: { pkce?: boolean }) {
  const config = await discover(app, registered);
  const { user, cookie } = await approved();
  const { url, checks } = await authorizationUrl(config, options);
  const callback = await callbackFor(url, cookie);
  return { config, user, checks, callback, code: callback.searchParams.get("code") as string };
}

const codeGrant = (code: string, verifier: string) => ({
  grant_type: "authorization_code",
  code,
  redirect_uri: redirectUri,
  code_verifier: verifier,
});

/**
 * An authorization request written by hand, for what a client library would
 * not send: the code flow, scope openid, to the registered redirect URI,
 * unless `fields` say otherwise.
 */
function handWritten(fields: Record<string, string> & { client_id: string }): URL {
  const url = new URL(`${issuer}/oauth2/authorize`);
  url.search = new URLSearchParams({
    redirect_uri: redirectUri,
    response_type: "code",
    scope: "openid",
    ...fields,
  }).toString();
  return url;
}

/** The authorization request of `fields` gets an error page (a 400), never a redirect. */
async function expectErrorPage(
  fields: Parameters<typeof handWritten>[0],
  cookie: string | null = null,
) {
  const { response, location } = await browse(handWritten(fields), cookie);
  expect(response.status).toBe(400);
  expect(location).toBeNull();
  return response;
}

async function oauthError(response: Response) {
  return ((await response.json()) as { error: string }).error;
}

describe("authorization codes", () => {
  test("a second redemption fails and revokes what the first one issued", async () => {
    const registered = await registerClient(db.pool);
    const { config, user, code, checks } = await freshCode(registered);
    const first = await tokenRequest(codeGrant(code, checks.verifier), registered);
    expect(first.status).toBe(200);
    const { access_token } = (await first.json()) as { access_token: string };
    expect((await client.fetchUserInfo(config, access_token, user.id)).sub).toBe(user.id);

    const second = await tokenRequest(codeGrant(code, checks.verifier), registered);
    expect(second.status).toBe(400);
    expect(await oauthError(second)).toBe("invalid_grant");
    await expect(client.fetchUserInfo(config, access_token, user.id)).rejects.toThrow();
  });

  test("of 20 concurrent redemptions of one code exactly one succeeds", async () => {
    const registered = await registerClient(db.pool);
    const { code, checks } = await freshCode(registered);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => tokenRequest(codeGrant(code, checks.verifier), registered)),
    );
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 400)).toHaveLength(19);
  });

  test("an expired code is refused", async () => {
    const registered = await registerClient(db.pool);
    const { code, checks } = await freshCode(registered);
    await db.pool.query(sql.unsafe`
      UPDATE oauth_authorization_codes SET expires_at = now() - interval '1 second'
      WHERE client_id = ${registered.clientId}`);
    const answer = await tokenRequest(codeGrant(code, checks.verifier), registered);
    expect(answer.status).toBe(400);
    expect(await oauthError(answer)).toBe("invalid_grant");
  });

  test("cleanup removes codes that expired before its grace period", async () => {
    const { runCleanup } = await import("../src/ops/cleanup.ts");
    const registered = await registerClient(db.pool);
    await freshCode(registered);
    await freshCode(registered);
    await db.pool.query(sql.unsafe`
      UPDATE oauth_authorization_codes SET created_at = now() - interval '2 days',
        expires_at = now() - interval '2 days'
      WHERE id = (SELECT id FROM oauth_authorization_codes WHERE client_id = ${registered.clientId} LIMIT 1)`);
    const report = await runCleanup({
      pool: db.pool,
      graceMs: 86_400_000,
      auditRetentionDays: 90,
      backupDir: "/nonexistent",
      backupRetentionMs: 0,
    });
    expect(report.ran && report.removed.oauth_authorization_codes).toBe(1);
    const left = await db.pool.oneFirst(sql.unsafe`
      SELECT count(*)::int FROM oauth_authorization_codes WHERE client_id = ${registered.clientId}`);
    expect(left).toBe(1);
  });

  test("codes live 60 seconds", async () => {
    const registered = await registerClient(db.pool);
    await freshCode(registered);
    const life = await db.pool.oneFirst(sql.unsafe`
      SELECT extract(epoch FROM expires_at - created_at)::int FROM oauth_authorization_codes
      WHERE client_id = ${registered.clientId}`);
    expect(life).toBe(60);
  });

  test("another client's code is refused, and stays good for its own client", async () => {
    const registered = await registerClient(db.pool);
    const other = await registerClient(db.pool);
    const { code, checks } = await freshCode(registered);
    const stolen = await tokenRequest(codeGrant(code, checks.verifier), other);
    expect(await oauthError(stolen)).toBe("invalid_grant");
    expect((await tokenRequest(codeGrant(code, checks.verifier), registered)).status).toBe(200);
  });
});

describe("redirect URIs", () => {
  test("an unregistered redirect URI gets an error page, never a redirect", async () => {
    const registered = await registerClient(db.pool);
    const { cookie } = await approved();
    const response = await expectErrorPage(
      { client_id: registered.clientId, redirect_uri: `${redirectUri}/../evil`, state: "s" },
      cookie,
    );
    expect(response.headers.get("content-type")).toStartWith("text/html");
    expect(await response.text()).toContain("redirect_uri");
  });

  test("a prefix of a registered redirect URI is not a match", async () => {
    const registered = await registerClient(db.pool);
    await expectErrorPage({ client_id: registered.clientId, redirect_uri: `${redirectUri}x` });
  });

  test("an unknown client gets an error page, never a redirect", async () => {
    await expectErrorPage({ client_id: crypto.randomUUID() });
  });

  test("a code redeemed with another redirect URI than its request's is refused", async () => {
    const registered = await registerClient(db.pool, {
      redirect_uris: [redirectUri, "https://rp.example/other"],
    });
    const { code, checks } = await freshCode(registered);
    const answer = await tokenRequest(
      { ...codeGrant(code, checks.verifier), redirect_uri: "https://rp.example/other" },
      registered,
    );
    expect(await oauthError(answer)).toBe("invalid_grant");
  });
});

describe("nonce", () => {
  test("an ID token for another nonce is refused by the relying party", async () => {
    const registered = await registerClient(db.pool);
    const { config, callback, checks } = await freshCode(registered);
    await expect(
      client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: checks.verifier,
        expectedState: checks.state,
        expectedNonce: client.randomNonce(),
      }),
    ).rejects.toThrow();
  });

  test("a request without nonce gets an ID token without one, which a client expecting one refuses", async () => {
    const registered = await registerClient(db.pool);
    const config = await discover(app, registered);
    const { cookie } = await approved();
    const { url, checks } = await authorizationUrl(config);
    url.searchParams.delete("nonce");
    const callback = await callbackFor(url, cookie);
    await expect(
      client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: checks.verifier,
        expectedState: checks.state,
        expectedNonce: checks.nonce,
      }),
    ).rejects.toThrow();
  });

  test("the nonce of the request is the nonce of the ID token", async () => {
    const registered = await registerClient(db.pool);
    const { config, callback, checks } = await freshCode(registered);
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: checks.verifier,
      expectedState: checks.state,
      expectedNonce: checks.nonce,
    });
    expect(tokens.claims()?.nonce).toBe(checks.nonce);
  });
});

describe("client authentication", () => {
  test("a wrong client secret is invalid_client (401)", async () => {
    const registered = await registerClient(db.pool);
    const { code, checks } = await freshCode(registered);
    const answer = await tokenRequest(codeGrant(code, checks.verifier), {
      ...registered,
      secret: "not-the-secret",
    });
    expect(answer.status).toBe(401);
    expect(await oauthError(answer)).toBe("invalid_client");
  });

  test("a confidential client without its secret is invalid_client", async () => {
    const registered = await registerClient(db.pool);
    const { code, checks } = await freshCode(registered);
    const answer = await tokenRequest({
      ...codeGrant(code, checks.verifier),
      client_id: registered.clientId,
    });
    expect(answer.status).toBe(401);
  });

  test("a rotated secret keeps working beside the new one", async () => {
    const { rotateClientSecret } = await import("../src/oidc/clients.ts");
    const { testLogger } = await import("./support/database.ts");
    const registered = await registerClient(db.pool);
    const { secret } = await rotateClientSecret(
      { pool: db.pool, logger: testLogger },
      { actorId: null, ip: null, userAgent: null },
      registered.clientId,
    );
    for (const current of [registered.secret, secret]) {
      const { code, checks } = await freshCode(registered);
      const answer = await tokenRequest(codeGrant(code, checks.verifier), {
        ...registered,
        secret: current,
      });
      expect(answer.status).toBe(200);
    }
  });
});

describe("PKCE", () => {
  test("a public client without code_challenge is refused at the redirect URI", async () => {
    const registered = await registerClient(db.pool, { public: true });
    const config = await discover(app, registered);
    const { cookie } = await approved();
    const { url, checks } = await authorizationUrl(config, { pkce: false });
    const callback = await callbackFor(url, cookie);
    expect(callback.searchParams.get("error")).toBe("invalid_request");
    expect(callback.searchParams.get("state")).toBe(checks.state);
    expect(callback.searchParams.get("code")).toBeNull();
  });

  test("the plain method is refused", async () => {
    const registered = await registerClient(db.pool);
    const config = await discover(app, registered);
    const { cookie } = await approved();
    const { url } = await authorizationUrl(config);
    url.searchParams.set("code_challenge_method", "plain");
    const callback = await callbackFor(url, cookie);
    expect(callback.searchParams.get("error")).toBe("invalid_request");
  });

  test("a verifier that does not match the challenge is refused", async () => {
    const registered = await registerClient(db.pool, { public: true });
    const { code } = await freshCode(registered);
    const answer = await tokenRequest(codeGrant(code, client.randomPKCECodeVerifier()), registered);
    expect(await oauthError(answer)).toBe("invalid_grant");
  });

  test("a code issued with a challenge is refused without its verifier", async () => {
    const registered = await registerClient(db.pool);
    const { code } = await freshCode(registered);
    const answer = await tokenRequest(
      { grant_type: "authorization_code", code, redirect_uri: redirectUri },
      registered,
    );
    expect(await oauthError(answer)).toBe("invalid_grant");
  });

  test("a verifier for a code issued without a challenge is refused (downgrade)", async () => {
    const registered = await registerClient(db.pool);
    const { code } = await freshCode(registered, { pkce: false });
    const answer = await tokenRequest(codeGrant(code, client.randomPKCECodeVerifier()), registered);
    expect(await oauthError(answer)).toBe("invalid_grant");
  });
});

describe("the authorization response", () => {
  test("errors carry iss and state too", async () => {
    const registered = await registerClient(db.pool);
    const url = handWritten({
      client_id: registered.clientId,
      response_type: "token",
      state: "st",
    });
    const { location } = await browse(url, null);
    const callback = new URL(location as string);
    expect(callback.searchParams.get("error")).toBe("unsupported_response_type");
    expect(callback.searchParams.get("iss")).toBe(issuer);
    expect(callback.searchParams.get("state")).toBe("st");
  });

  test("a request without the openid scope is invalid_scope", async () => {
    const registered = await registerClient(db.pool);
    const url = handWritten({ client_id: registered.clientId, scope: "email" });
    const { location } = await browse(url, null);
    expect(new URL(location as string).searchParams.get("error")).toBe("invalid_scope");
  });
});

describe("bad input", () => {
  test("the token endpoint answers RFC 6749 errors, never a 5xx", async () => {
    const registered = await registerClient(db.pool);
    const bodies: [string, string][] = [
      ["application/x-www-form-urlencoded", ""],
      ["application/x-www-form-urlencoded", "grant_type=password&username=a&password=b"],
      ["application/x-www-form-urlencoded", "grant_type=authorization_code"],
      [
        "application/x-www-form-urlencoded",
        `grant_type=authorization_code&client_id=${registered.clientId}`,
      ],
      ["application/x-www-form-urlencoded", "grant_type=refresh_token&client_id=nope"],
      [
        "application/x-www-form-urlencoded",
        `grant_type=authorization_code&code=${"x".repeat(300)}`,
      ],
      ["application/x-www-form-urlencoded", "grant_type=authorization_code&code=%00&client_id=%00"],
      ["application/json", "{"],
      ["application/json", '{"grant_type": 5, "client_id": ["a"]}'],
      ["application/json", "[]"],
      ["text/plain", "grant_type=authorization_code"],
    ];
    for (const [type, body] of bodies) {
      const answer = await app.request("/oauth2/token", {
        method: "POST",
        headers: { "content-type": type },
        body,
      });
      expect(answer.status, body).toBeGreaterThanOrEqual(400);
      expect(answer.status, body).toBeLessThan(500);
    }
    for (const authorization of [
      "Basic !!!",
      "Basic Og==",
      "Bearer x",
      `Basic ${btoa("%zz:%zz")}`,
    ]) {
      const answer = await app.request("/oauth2/token", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", authorization },
        body: "grant_type=authorization_code&code=x",
      });
      expect(answer.status, authorization).toBe(401);
    }
  });

  test("the browser endpoints answer 4xx or a redirect to a registered URI, never a 5xx", async () => {
    const registered = await registerClient(db.pool);
    const { cookie } = await approved();
    const queries = [
      "",
      "client_id=",
      "client_id=not-a-uuid&redirect_uri=x",
      `client_id=${registered.clientId}&client_id=${registered.clientId}&redirect_uri=${redirectUri}`,
      `client_id=${registered.clientId}&redirect_uri=${encodeURIComponent(redirectUri)}&scope=openid&response_type=code&state=a&state=b`,
      `client_id=${registered.clientId}&redirect_uri=${encodeURIComponent(redirectUri)}&scope=openid&response_type=code&max_age=-1`,
      `client_id=${registered.clientId}&redirect_uri=${encodeURIComponent(redirectUri)}&scope=openid&response_type=code&prompt=none%20login`,
      `client_id=${registered.clientId}&redirect_uri=${encodeURIComponent(redirectUri)}&scope=openid&response_type=code&nonce=%00`,
      `client_id=${registered.clientId}&redirect_uri=${encodeURIComponent(redirectUri)}&scope=openid&response_type=code&request=eyJ`,
      `client_id=${registered.clientId}&redirect_uri=${encodeURIComponent(redirectUri)}&scope=openid&response_type=code&gatehouse_login_after=soon`,
      `client_id=${registered.clientId}&redirect_uri=${encodeURIComponent(redirectUri)}&scope=openid&response_type=code&code_challenge=short&code_challenge_method=S256`,
    ];
    for (const query of queries) {
      for (const who of [null, cookie]) {
        const { response, location } = await browse(`${issuer}/oauth2/authorize?${query}`, who);
        if (response.status === 302) {
          expect(location, query).toStartWith(redirectUri);
          expect(new URL(location as string).searchParams.get("error"), query).toBeString();
        } else {
          expect(response.status, query).toBe(400);
        }
      }
    }
    for (const path of [
      "/oauth2/logout?id_token_hint=junk",
      "/oauth2/logout?post_logout_redirect_uri=https://evil.example/",
      `/oauth2/logout?client_id=${registered.clientId}&post_logout_redirect_uri=https://evil.example/`,
      "/oauth2/logout?state=a&state=b",
    ]) {
      const { response, location } = await browse(`${issuer}${path}`, cookie);
      expect(response.status, path).toBe(400);
      expect(location).toBeNull();
    }
    const consent = await app.request("/oauth2/consent", {
      method: "POST",
      headers: { "content-type": "application/json", origin: issuer, cookie },
      body: "{}",
    });
    expect(consent.status).toBe(415);
    const emptyConsent = await app.request("/oauth2/consent", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: issuer, cookie },
      body: "decision=allow",
    });
    expect(emptyConsent.status).toBe(400);
  });

  test("userinfo refuses a missing, forged or foreign token with 401", async () => {
    const { cookie } = await approved();
    const own = (await (
      await app.request("/auth/token/session", {
        method: "POST",
        headers: { cookie, origin: issuer },
      })
    ).json()) as { access_token: string };
    for (const authorization of [
      undefined,
      "Bearer",
      "Bearer abc.def.ghi",
      `Bearer ${own.access_token}`,
      "Basic Og==",
    ]) {
      const answer = await app.request("/oauth2/userinfo", {
        headers: authorization ? { authorization } : {},
      });
      expect(answer.status, authorization).toBe(401);
      expect(answer.headers.get("content-type")).toBe("application/problem+json");
    }
  });
});
