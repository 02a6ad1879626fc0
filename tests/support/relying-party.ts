import * as client from "openid-client";
import type { DatabasePool } from "slonik";
import type { NewUser } from "../../sql/users.ts";
import { addClient, type ClientInput, clientBody } from "../../src/oidc/clients.ts";
import { idTokenAlgorithms } from "../../src/oidc/id-tokens.ts";
import { selfAddressedAppSetup, type TestApp } from "./app.ts";
import { testLogger } from "./database.ts";
import { postForm } from "./requests.ts";
import { signedInUser } from "./sign-in.ts";

// A real relying party for the OpenID provider's tests: openid-client
// configured only through discovery, as an app would be, against the real
// app over HTTP. The browser is a plain fetch that carries a cookie and
// follows no redirects, so each hop can be looked at.

export const redirectUri = "https://rp.example/callback";
export const postLogoutUri = "https://rp.example/signed-out";

/**
 * An app whose PUBLIC_URL is its own address (the issuer the relying party
 * checks), with what the provider's tests ask of it over and over.
 */
export async function providerTestSetup(env: Record<string, string> = {}) {
  const { db, app } = await selfAddressedAppSetup(env);
  return {
    db,
    app,
    issuer: app.config.http.PUBLIC_URL,
    /** A new client (registerClient's), configured by discovery. */
    relyingParty: async (input: Partial<ClientInput> = {}) =>
      discover(app, await registerClient(db.pool, input)),
    /** A signed-in user the allowlist lets in; `session` as signedInUser's. */
    member: (user: Partial<NewUser> = {}, session?: Parameters<typeof signedInUser>[3]) =>
      signedInUser(db.pool, app.config, { isWhitelisted: true, ...user }, session),
  };
}

export type RegisteredClient = { clientId: string; secret: string | null };

/** Registers a client as an administrator would (first-party, confidential unless said). */
export async function registerClient(
  pool: DatabasePool,
  input: Partial<ClientInput> = {},
): Promise<RegisteredClient> {
  const { client: added, secret } = await addClient(
    { pool, logger: testLogger },
    { actorId: null, ip: null, userAgent: "test" },
    clientBody.parse({
      name: "Test app",
      redirect_uris: [redirectUri],
      post_logout_redirect_uris: [postLogoutUri],
      first_party: true,
      ...input,
    }),
    // Refusing an algorithm the app does not offer is the admin API's test.
    idTokenAlgorithms,
  );
  return { clientId: added.id, secret };
}

/** openid-client's configuration from discovery; client_secret_basic unless `auth` says otherwise. */
export function discover(
  app: TestApp,
  registered: RegisteredClient,
  auth: "basic" | "post" = "basic",
): Promise<client.Configuration> {
  const clientAuth =
    registered.secret === null
      ? client.None()
      : auth === "basic"
        ? client.ClientSecretBasic(registered.secret)
        : client.ClientSecretPost(registered.secret);
  return client.discovery(new URL(app.url), registered.clientId, undefined, clientAuth, {
    execute: [client.allowInsecureRequests],
  });
}

/** One authorization request's checks, as a relying party keeps them in its session. */
export type Checks = { state: string; nonce: string; verifier: string };

export async function authorizationUrl(
  config: client.Configuration,
  { scope = "openid email profile groups", pkce = true, extra = {} } = {} as {
    scope?: string;
    pkce?: boolean;
    extra?: Record<string, string>;
  },
): Promise<{ url: URL; checks: Checks }> {
  const checks = {
    state: client.randomState(),
    nonce: client.randomNonce(),
    verifier: client.randomPKCECodeVerifier(),
  };
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope,
    state: checks.state,
    nonce: checks.nonce,
    ...(pkce
      ? {
          code_challenge: await client.calculatePKCECodeChallenge(checks.verifier),
          code_challenge_method: "S256",
        }
      : {}),
    ...extra,
  });
  return { url, checks };
}

/** A browser GET with `cookie`, redirects not followed: the status and where it points. */
export async function browse(url: URL | string, cookie: string | null) {
  const response = await fetch(url, {
    redirect: "manual",
    headers: cookie ? { cookie } : {},
  });
  return { response, location: response.headers.get("location") };
}

/** The authorization request run in a signed-in browser, down to the redirect back to the client. */
export async function callbackFor(url: URL, cookie: string): Promise<URL> {
  const { response, location } = await browse(url, cookie);
  if (response.status !== 302 || !location?.startsWith(redirectUri)) {
    throw new Error(`expected a redirect to the client, got ${response.status} ${location}`);
  }
  return new URL(location);
}

/** Allows on the consent page (its `html`) as its form does: the hidden fields it carries, and "allow". */
export function allowConsent(app: TestApp, html: string, cookie: string): Promise<Response> {
  const fields = Object.fromEntries(
    [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [
      m[1],
      (m[2] as string).replaceAll("&amp;", "&"),
    ]),
  );
  return postForm(
    app,
    "/oauth2/consent",
    { ...fields, decision: "allow" },
    { cookie, origin: app.config.http.PUBLIC_URL },
  );
}

/** Signs in through the whole code flow and redeems the code: openid-client's token response. */
export async function signInThrough(
  config: client.Configuration,
  cookie: string,
  options?: Parameters<typeof authorizationUrl>[1],
) {
  const { url, checks } = await authorizationUrl(config, options);
  const callback = await callbackFor(url, cookie);
  return client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: options?.pkce === false ? undefined : checks.verifier,
    expectedState: checks.state,
    expectedNonce: checks.nonce,
    idTokenExpected: true,
  });
}
