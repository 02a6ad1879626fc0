import { describe, expect, test } from "bun:test";
import { generateKeyPairSync, type KeyObject, sign as signWith } from "node:crypto";
import { SignJWT } from "jose";
import type { SigningKey } from "../src/keys/signing-key-text.ts";
import { createAccessTokenCheck } from "../src/tokens/access-token-check.ts";

// The request path's own verify of our access tokens must refuse exactly
// what jose.jwtVerify refused for them (tests/tokens.test.ts sends forged
// tokens through the app as well).

const issuer = "https://auth.example.com";
const audience = "https://auth.example.com";
const now = 2_000_000_000;

function signingKey(kid: string, alg: "EdDSA" | "ES256"): SigningKey {
  const pair =
    alg === "EdDSA"
      ? generateKeyPairSync("ed25519")
      : generateKeyPairSync("ec", { namedCurve: "P-256" });
  return { kid, alg, privateKey: pair.privateKey, publicKey: pair.publicKey } as SigningKey;
}
const ed = signingKey("ed-1", "EdDSA");
const ec = signingKey("ec-1", "ES256");
const check = createAccessTokenCheck({ keys: [ed, ec], issuer, audience, toleranceSeconds: 30 });

const goodClaims = { iss: issuer, aud: audience, sub: "s", iat: now - 10, exp: now + 600 };

function sign(
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
  key: { kid: string; alg: string; privateKey: KeyObject } = ed,
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "at+jwt", ...header } as never)
    .sign(key.privateKey);
}

describe("access token check", () => {
  test("a good token signed with either kind of key passes with its claims", async () => {
    expect(check(await sign(goodClaims), now)).toMatchObject({ sub: "s" });
    expect(check(await sign(goodClaims, {}, ec), now)).toMatchObject({ sub: "s" });
  });

  test("an audience list holding ours passes; one without it does not", async () => {
    expect(check(await sign({ ...goodClaims, aud: ["x", audience] }), now)).not.toBeNull();
    expect(check(await sign({ ...goodClaims, aud: ["x", "y"] }), now)).toBeNull();
  });

  test("exp within the clock tolerance passes, beyond it does not", async () => {
    expect(check(await sign({ ...goodClaims, exp: now - 29 }), now)).not.toBeNull();
    expect(check(await sign({ ...goodClaims, exp: now - 30 }), now)).toBeNull();
  });

  test("nbf ahead beyond the tolerance, a missing iat or a missing exp is refused", async () => {
    expect(check(await sign({ ...goodClaims, nbf: now + 31 }), now)).toBeNull();
    expect(check(await sign({ ...goodClaims, nbf: now + 29 }), now)).not.toBeNull();
    expect(check(await sign({ ...goodClaims, iat: undefined }), now)).toBeNull();
    expect(check(await sign({ ...goodClaims, exp: "later" }), now)).toBeNull();
  });

  test("a header naming another key's algorithm, a crit or another typ is refused", async () => {
    const token = await sign(goodClaims);
    const [, payload, signature] = token.split(".");
    const header = (h: Record<string, unknown>) =>
      `${Buffer.from(JSON.stringify(h)).toString("base64url")}.${payload}.${signature}`;
    expect(check(header({ alg: "ES256", kid: ed.kid, typ: "at+jwt" }), now)).toBeNull();
    const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const withCrit = `${part({ alg: "EdDSA", kid: ed.kid, typ: "at+jwt", crit: ["x"], x: 1 })}.${payload}`;
    const critSignature = signWith(null, Buffer.from(withCrit), ed.privateKey).toString(
      "base64url",
    );
    expect(check(`${withCrit}.${critSignature}`, now)).toBeNull();
    expect(check(await sign(goodClaims, { typ: "JWT" }), now)).toBeNull();
    expect(check(await sign(goodClaims, { typ: "application/at+jwt" }), now)).not.toBeNull();
  });

  test("a changed payload, a signature of another token or a malformed token is refused", async () => {
    const [header, payload, signature] = (await sign(goodClaims)).split(".");
    const other = (await sign({ ...goodClaims, sub: "t" })).split(".")[2];
    const changed = Buffer.from(JSON.stringify({ ...goodClaims, sub: "t" })).toString("base64url");
    expect(check(`${header}.${changed}.${signature}`, now)).toBeNull();
    expect(check(`${header}.${payload}.${other}`, now)).toBeNull();
    expect(check(`${header}.${payload}.`, now)).toBeNull();
    expect(check(`${header}.${payload}.${signature}.x`, now)).toBeNull();
    expect(check(`${header}.${payload}.${signature}=`, now)).toBeNull();
    expect(check("abc.def.ghi", now)).toBeNull();
  });
});
