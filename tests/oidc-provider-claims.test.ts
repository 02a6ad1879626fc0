import { describe, expect, test } from "bun:test";
import * as client from "openid-client";
import { sql } from "slonik";
import { createSession } from "../src/sessions/sessions.ts";
import {
  authorizationUrl,
  browse,
  callbackFor,
  providerTestSetup,
  redirectUri,
  signInThrough,
} from "./support/relying-party.ts";
import { cookieHeader, cookiesSet } from "./support/requests.ts";
import { plantPasskey } from "./support/sign-in.ts";

// What an authorization request may ask beyond its scopes: an acr
// (acr_values, or the claims parameter's acr, essential or not), the
// claims parameter itself, and the request sent as a form by POST.

const { db, app, issuer, relyingParty: rp, member } = await providerTestSetup();
const sfa = "urn:gatehouse:acr:sfa";
const mfa = "urn:gatehouse:acr:mfa";

/** A signed-in, approved user whose session was proved with `amr`. */
const signedIn = (amr: readonly string[] = ["pwd"]) => member({}, { amr });
const claimsParam = (claims: unknown) => ({ claims: JSON.stringify(claims) });
const essentialAcr = (values: string[]) =>
  claimsParam({ id_token: { acr: { essential: true, values } } });

/** The authorization request's answer at the client: the callback's parameters. */
async function answerTo(
  config: client.Configuration,
  cookie: string | null,
  extra: Record<string, string>,
) {
  const { url, checks } = await authorizationUrl(config, { extra });
  const { location } = await browse(url, cookie);
  return { location: new URL(location as string, app.url), checks };
}

const redeem = (
  config: client.Configuration,
  callback: URL,
  checks: { state: string; nonce: string; verifier: string },
) =>
  client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: checks.verifier,
    expectedState: checks.state,
    expectedNonce: checks.nonce,
  });

const codesOf = (userId: string) =>
  db.pool.oneFirst(sql.unsafe`
    SELECT count(*)::int FROM oauth_authorization_codes WHERE user_id = ${userId}`);

describe("discovery", () => {
  test("advertises the claims parameter and the acr values", async () => {
    const metadata = (await (
      await app.request("/.well-known/openid-configuration")
    ).json()) as Record<string, unknown>;
    expect(metadata.claims_parameter_supported).toBe(true);
    expect(metadata.acr_values_supported).toEqual(["phr", mfa, sfa]);
    expect(metadata.claims_supported).toContain("acr");
    // Only what ID tokens or userinfo can carry: no sid, which neither does.
    expect(metadata.claims_supported).not.toContain("sid");
  });
});

describe("acr", () => {
  test("is not in the ID token unless asked for", async () => {
    const { cookie } = await signedIn();
    const tokens = await signInThrough(await rp(), cookie);
    expect(tokens.claims()?.acr).toBeUndefined();
  });

  test("a two-factor sign-in meets urn:gatehouse:acr:mfa", async () => {
    const { cookie } = await signedIn(["pwd", "otp"]);
    const tokens = await signInThrough(await rp(), cookie, { extra: { acr_values: mfa } });
    expect(tokens.claims()?.acr).toBe(mfa);
  });

  test("a passkey sign-in is phishing-resistant (phr)", async () => {
    const { cookie } = await signedIn(["hwk", "user", "mfa"]);
    const tokens = await signInThrough(await rp(), cookie, { extra: { acr_values: `phr ${mfa}` } });
    expect(tokens.claims()?.acr).toBe("phr");
  });

  test("the first requested class the sign-in meets is reported, in the RP's order", async () => {
    const { cookie } = await signedIn(["pwd", "otp"]);
    const tokens = await signInThrough(await rp(), cookie, {
      extra: { acr_values: `phr ${mfa} ${sfa}` },
    });
    expect(tokens.claims()?.acr).toBe(mfa);
  });

  test("acr_values a user without a second factor cannot meet gets the class met", async () => {
    const { cookie } = await signedIn(["pwd"]);
    const tokens = await signInThrough(await rp(), cookie, { extra: { acr_values: mfa } });
    expect(tokens.claims()?.acr).toBe(sfa);
  });

  test("a single-factor session of a user with a second factor is sent to sign in again", async () => {
    const config = await rp();
    const { user, cookie } = await signedIn(["pwd"]);
    await plantPasskey(db.pool, user.id);
    const { location, checks } = await answerTo(config, cookie, { acr_values: mfa });
    expect(location.origin + location.pathname).toBe(`${issuer}/`);
    expect(location.searchParams.get("prompt")).toBe("login");
    const resume = new URL(location.searchParams.get("redirect_to") as string, app.url);
    expect(resume.searchParams.get("acr_values")).toBe(mfa);
    // Signed in again with the second factor: the resumed request gets a code and mfa.
    const { secret } = await createSession(db.pool, {
      userId: user.id,
      amr: ["pwd", "hwk"],
      ttlMs: 60_000,
      idleTtlMs: 60_000,
      ip: null,
      userAgent: "test",
    });
    const callback = await callbackFor(resume, cookieHeader({ gatehouse_session: secret }));
    expect((await redeem(config, callback, checks)).claims()?.acr).toBe(mfa);
  });

  test("a resumed request whose fresh sign-in still lacks the class is not sent round again", async () => {
    const config = await rp();
    const { user, cookie } = await signedIn(["pwd"]);
    await plantPasskey(db.pool, user.id);
    const { location, checks } = await answerTo(config, cookie, { acr_values: mfa });
    const resume = new URL(location.searchParams.get("redirect_to") as string, app.url);
    const fresh = await createSession(db.pool, {
      userId: user.id,
      amr: ["pwd"],
      ttlMs: 60_000,
      idleTtlMs: 60_000,
      ip: null,
      userAgent: "test",
    });
    const callback = await callbackFor(resume, cookieHeader({ gatehouse_session: fresh.secret }));
    expect((await redeem(config, callback, checks)).claims()?.acr).toBe(sfa);
  });

  test("an essential acr the user cannot meet fails with unmet_authentication_requirements", async () => {
    const { user, cookie } = await signedIn(["pwd"]);
    const { location, checks } = await answerTo(await rp(), cookie, essentialAcr([mfa]));
    expect(location.href).toStartWith(redirectUri);
    expect(location.searchParams.get("error")).toBe("unmet_authentication_requirements");
    expect(location.searchParams.get("state")).toBe(checks.state);
    expect(location.searchParams.get("code")).toBeNull();
    expect(await codesOf(user.id)).toBe(0);
  });

  test("an essential acr with prompt=none that a sign-in could meet answers login_required", async () => {
    const { user, cookie } = await signedIn(["pwd"]);
    await plantPasskey(db.pool, user.id);
    const { location } = await answerTo(await rp(), cookie, {
      ...essentialAcr(["phr"]),
      prompt: "none",
    });
    expect(location.searchParams.get("error")).toBe("login_required");
  });

  test("phr asked of a user whose only second factor is an authenticator app is not sought", async () => {
    const { user, cookie } = await signedIn(["pwd", "otp"]);
    // A confirmed authenticator (its sealed secret does not matter here).
    await db.pool.query(sql.unsafe`
      INSERT INTO mfa_totp (user_id, secret, confirmed_at) VALUES (${user.id}, 'v2.k.sealed.secret', now())`);
    const config = await rp();
    const voluntary = await signInThrough(config, cookie, { extra: { acr_values: "phr" } });
    expect(voluntary.claims()?.acr).toBe(mfa);
    const { location } = await answerTo(config, cookie, essentialAcr(["phr"]));
    expect(location.searchParams.get("error")).toBe("unmet_authentication_requirements");
  });

  test("an essential acr the session meets is reported", async () => {
    const { cookie } = await signedIn(["pwd", "otp"]);
    const tokens = await signInThrough(await rp(), cookie, { extra: essentialAcr([mfa]) });
    expect(tokens.claims()?.acr).toBe(mfa);
  });

  test("userinfo reports the acr only when the claims parameter asked it to; a refresh keeps it", async () => {
    const config = await rp();
    const { user, cookie } = await signedIn(["pwd", "otp"]);
    const asked = await signInThrough(config, cookie, {
      scope: "openid email offline_access",
      extra: claimsParam({ userinfo: { acr: null }, id_token: { acr: { values: [mfa] } } }),
    });
    expect(asked.claims()?.acr).toBe(mfa);
    const info = await client.fetchUserInfo(config, asked.access_token, user.id);
    expect(info.acr).toBe(mfa);
    const refreshed = await client.refreshTokenGrant(config, asked.refresh_token as string);
    expect(refreshed.claims()?.acr).toBe(mfa);

    const plain = await signInThrough(config, cookie, { extra: { acr_values: mfa } });
    const plainInfo = await client.fetchUserInfo(config, plain.access_token, user.id);
    expect(plainInfo.acr).toBeUndefined();
  });
});

describe("the claims parameter", () => {
  test("malformed is invalid_request at the redirect URI, and issues no code", async () => {
    const config = await rp();
    const { user, cookie } = await signedIn();
    for (const claims of [
      "{not json",
      "[]",
      "null",
      '"text"',
      '{"id_token": []}',
      '{"userinfo": "email"}',
      '{"id_token": {"email": true}}',
      '{"id_token": {"email": {"essential": "yes"}}}',
      '{"id_token": {"acr": {"values": "phr"}}}',
      '{"id_token": {"acr": {"values": [1]}}}',
      '{"id_token": {"email": {"value": {"nested": 1}}}}',
    ]) {
      const { location, checks } = await answerTo(config, cookie, { claims });
      expect(location.href, claims).toStartWith(redirectUri);
      expect(location.searchParams.get("error"), claims).toBe("invalid_request");
      expect(location.searchParams.get("state")).toBe(checks.state);
      expect(location.searchParams.get("iss")).toBe(issuer);
    }
    expect(await codesOf(user.id)).toBe(0);
  });

  test("unknown members and claims are ignored", async () => {
    const { cookie } = await signedIn();
    const tokens = await signInThrough(await rp(), cookie, {
      extra: claimsParam({ id_token: { shoe_size: { essential: true } }, elsewhere: {} }),
    });
    expect(tokens.claims()?.shoe_size).toBeUndefined();
  });

  test("releases a claim only where its scope was granted", async () => {
    const config = await rp();
    const { user, cookie } = await signedIn();
    const request = claimsParam({
      id_token: { email: { essential: true }, name: null, groups: null },
      userinfo: { email: null, email_verified: null },
    });
    const withoutScopes = await signInThrough(config, cookie, { scope: "openid", extra: request });
    expect(withoutScopes.claims()?.email).toBeUndefined();
    expect(withoutScopes.claims()?.groups).toBeUndefined();
    const info = await client.fetchUserInfo(config, withoutScopes.access_token, user.id);
    expect(JSON.parse(JSON.stringify(info)) as unknown).toEqual({ sub: user.id });

    const withScopes = await signInThrough(config, cookie, {
      scope: "openid email groups",
      extra: request,
    });
    expect(withScopes.claims()?.email).toBe(user.email as string);
    expect(withScopes.claims()?.email_verified).toBe(true);
    expect(withScopes.claims()?.groups).toEqual(["user"]);
  });
});

describe("acr_values", () => {
  test("more than ten values are invalid_request", async () => {
    const { location } = await answerTo(await rp(), null, {
      acr_values: Array.from({ length: 11 }, (_, i) => `v${i}`).join(" "),
    });
    expect(location.searchParams.get("error")).toBe("invalid_request");
  });
});

describe("POST /oauth2/authorize", () => {
  const postAuthorization = (url: URL, headers: Record<string, string>) =>
    app.request("/oauth2/authorize", {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
      body: url.searchParams.toString(),
    });

  test("a form posted from the relying party's page is answered as the GET would be", async () => {
    const config = await rp();
    const { user, cookie } = await signedIn(["pwd", "otp"]);
    const { url, checks } = await authorizationUrl(config, { extra: { acr_values: mfa } });
    const answer = await postAuthorization(url, {
      cookie,
      origin: "https://rp.example",
      "sec-fetch-site": "cross-site",
    });
    expect(answer.status).toBe(302);
    const callback = new URL(answer.headers.get("location") as string);
    expect(callback.searchParams.get("state")).toBe(checks.state);
    const tokens = await redeem(config, callback, checks);
    expect(tokens.claims()?.sub).toBe(user.id);
    expect(tokens.claims()?.acr).toBe(mfa);
  });

  test("without a session (a cross-site POST carries no Lax cookie) the sign-in resumes the request by GET", async () => {
    const config = await rp();
    const { url } = await authorizationUrl(config);
    const answer = await postAuthorization(url, {
      origin: "https://rp.example",
      "sec-fetch-site": "cross-site",
    });
    expect(answer.status).toBe(302);
    const page = new URL(answer.headers.get("location") as string, app.url);
    const resume = new URL(page.searchParams.get("redirect_to") as string, app.url);
    expect(resume.pathname).toBe("/oauth2/authorize");
    expect(resume.searchParams.get("client_id")).toBe(url.searchParams.get("client_id"));
    expect(resume.searchParams.get("nonce")).toBe(url.searchParams.get("nonce"));
  });

  test("bad claims in the form go back as invalid_request; another media type is 415", async () => {
    const config = await rp();
    const { cookie } = await signedIn();
    const { url } = await authorizationUrl(config, { extra: { claims: "{" } });
    const answer = await postAuthorization(url, { cookie });
    expect(new URL(answer.headers.get("location") as string).searchParams.get("error")).toBe(
      "invalid_request",
    );
    const json = await app.request("/oauth2/authorize", {
      method: "POST",
      headers: { "content-type": "application/json", cookie },
      body: JSON.stringify(Object.fromEntries(url.searchParams)),
    });
    expect(json.status).toBe(415);
    expect(json.headers.get("content-type")).toBe("application/problem+json");
  });

  test("an unknown client in the form gets the error page, never a redirect", async () => {
    const config = await rp();
    const { url } = await authorizationUrl(config);
    url.searchParams.set("client_id", crypto.randomUUID());
    const answer = await postAuthorization(url, {});
    expect(answer.status).toBe(400);
    expect(answer.headers.get("location")).toBeNull();
  });
});
