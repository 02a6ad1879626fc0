import { describe, expect, test } from "bun:test";
import { generateKeyPairSync } from "node:crypto";
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import * as client from "openid-client";
import { idTokenAlgorithms } from "../src/oidc/id-tokens.ts";
import {
  browse,
  postLogoutUri,
  providerTestSetup,
  type RegisteredClient,
  registerClient,
  signInThrough,
} from "./support/relying-party.ts";
import { jsonSender } from "./support/requests.ts";
import { signedInUser } from "./support/sign-in.ts";

// ID tokens signed with the algorithm each client registered
// (id_token_signed_response_alg): RS256 by default, or the access-token
// keys' EdDSA and ES256. The relying party is openid-client, told to expect
// the client's algorithm, so it checks the signature with the JWKS.

const privateJwk = (type: "ed25519" | "ec", kid: string) => ({
  ...(type === "ec"
    ? generateKeyPairSync("ec", { namedCurve: "P-256" })
    : generateKeyPairSync("ed25519")
  ).privateKey.export({ format: "jwk" }),
  kid,
});

const {
  db,
  app,
  issuer,
  member: approved,
} = await providerTestSetup({
  JWT_SIGNING_KEYS: JSON.stringify([privateJwk("ed25519", "ed-1"), privateJwk("ec", "p256-1")]),
});
const send = jsonSender(app);

/** openid-client from discovery, expecting ID tokens signed with `alg`. */
function discoverExpecting(registered: RegisteredClient, alg: string) {
  return client.discovery(
    new URL(app.url),
    registered.clientId,
    { id_token_signed_response_alg: alg },
    client.ClientSecretBasic(registered.secret as string),
    { execute: [client.allowInsecureRequests] },
  );
}

describe("ID token signing algorithms", () => {
  test("discovery offers RS256 first, then the access-token keys' algorithms", async () => {
    const metadata = (await (await app.request("/.well-known/openid-configuration")).json()) as {
      id_token_signing_alg_values_supported: string[];
    };
    expect(metadata.id_token_signing_alg_values_supported).toEqual(["RS256", "EdDSA", "ES256"]);
  });

  for (const alg of idTokenAlgorithms) {
    test(`a client registered for ${alg} gets ID tokens openid-client verifies with the JWKS`, async () => {
      const registered = await registerClient(db.pool, { id_token_signed_response_alg: alg });
      const config = await discoverExpecting(registered, alg);
      const { user, cookie } = await approved();
      const tokens = await signInThrough(config, cookie, { scope: "openid offline_access" });
      expect(tokens.claims()?.sub).toBe(user.id);
      const header = decodeProtectedHeader(tokens.id_token as string);
      expect(header.alg).toBe(alg);
      // The kid names a key of the JWKS with that algorithm: jose finds it there alone.
      const jwks = createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`));
      const verified = await jwtVerify(tokens.id_token as string, jwks, {
        issuer,
        audience: registered.clientId,
        algorithms: [alg],
      });
      expect(verified.protectedHeader.kid).toBe(header.kid as string);
      // A refreshed ID token is signed the same way.
      const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token as string);
      expect(decodeProtectedHeader(refreshed.id_token as string).alg).toBe(alg);
    });
  }

  test("a client registered with none gets RS256", async () => {
    const admin = await signedInUser(db.pool, app.config, { role: "admin", isWhitelisted: true });
    const created = await send("POST", "/admin/clients", admin.cookie, {
      name: "Default",
      redirect_uris: ["https://rp.example/callback"],
    });
    expect(created.status).toBe(201);
    const body = (await created.json()) as { id_token_signed_response_alg: string };
    expect(body.id_token_signed_response_alg).toBe("RS256");
  });

  test("an EdDSA ID token serves as id_token_hint; an access token signed with the same key does not", async () => {
    const registered = await registerClient(db.pool, { id_token_signed_response_alg: "EdDSA" });
    const config = await discoverExpecting(registered, "EdDSA");
    const { cookie } = await approved();
    const tokens = await signInThrough(config, cookie);
    const byIdToken = await browse(
      client.buildEndSessionUrl(config, {
        id_token_hint: tokens.id_token as string,
        post_logout_redirect_uri: postLogoutUri,
      }),
      cookie,
    );
    expect(byIdToken.location).toBe(postLogoutUri);

    const other = await approved();
    const otherTokens = await signInThrough(config, other.cookie);
    const byAccessToken = await browse(
      client.buildEndSessionUrl(config, {
        id_token_hint: otherTokens.access_token,
        post_logout_redirect_uri: postLogoutUri,
      }),
      other.cookie,
    );
    expect(byAccessToken.response.status).toBe(400);
  });
});
