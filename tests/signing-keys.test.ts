import { afterAll, describe, expect, test } from "bun:test";
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalJWKSet, jwtVerify, SignJWT } from "jose";
import { ConfigError, parseConfig } from "../src/config/index.ts";
import { loadSigningKeys } from "../src/keys/signing-keys.ts";
import { createAccessTokens } from "../src/tokens/access-tokens.ts";
import { createTestDatabase, testLogger } from "./support/database.ts";

const db = await createTestDatabase();
const dataDir = await mkdtemp(join(tmpdir(), "gatehouse-keys-"));
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
  await db.drop();
});

const ed25519 = () => generateKeyPairSync("ed25519").privateKey;
const p256 = () => generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
const config = (env: Record<string, string>) =>
  parseConfig({ NODE_ENV: "test", DATABASE_URL: "postgres://unused", ...env });

describe("JWT_SIGNING_KEYS", () => {
  test("accepts PEM blocks, newest first: the first signs and all are published", async () => {
    const newer = ed25519().export({ format: "pem", type: "pkcs8" }).toString();
    const older = p256().export({ format: "pem", type: "sec1" }).toString();
    // One-line environment values carry PEM newlines as a literal \n.
    const parsed = config({ JWT_SIGNING_KEYS: `${newer}${older}`.replaceAll("\n", "\\n") });
    expect(parsed.tokens.JWT_SIGNING_KEYS.map((k) => k.alg)).toEqual(["EdDSA", "ES256"]);

    const tokens = createAccessTokens(parsed, testLogger);
    expect(tokens.jwks.keys.map((k) => k.kty)).toEqual(["OKP", "EC"]);
    const issued = await tokens.issue({
      userId: crypto.randomUUID(),
      sessionId: crypto.randomUUID(),
      role: "user",
      email: null,
      emailVerified: false,
    });
    const { protectedHeader } = await jwtVerify(issued.token, createLocalJWKSet(tokens.jwks));
    expect(protectedHeader.kid).toBe(parsed.tokens.JWT_SIGNING_KEYS[0]?.kid);
    expect(protectedHeader.alg).toBe("EdDSA");
  });

  test("accepts a JWK Set and keeps declared kids; an ES256 key signs ES256", async () => {
    const set = {
      keys: [
        { ...p256().export({ format: "jwk" }), kid: "2026-01" },
        { ...ed25519().export({ format: "jwk" }), kid: "2025-06" },
      ],
    };
    const tokens = createAccessTokens(
      config({ JWT_SIGNING_KEYS: JSON.stringify(set) }),
      testLogger,
    );
    expect(tokens.jwks.keys.map((k) => [k.kid, k.alg])).toEqual([
      ["2026-01", "ES256"],
      ["2025-06", "EdDSA"],
    ]);
    const issued = await tokens.issue({
      userId: crypto.randomUUID(),
      sessionId: crypto.randomUUID(),
      role: "admin",
      email: null,
      emailVerified: false,
    });
    expect(await tokens.verify(issued.token)).toMatchObject({ role: "admin" });
  });

  test("tokens signed by an older key still verify after a newer key takes over", async () => {
    const older = { ...ed25519().export({ format: "jwk" }), kid: "old" };
    const newer = { ...ed25519().export({ format: "jwk" }), kid: "new" };
    const before = createAccessTokens(
      config({ JWT_SIGNING_KEYS: JSON.stringify([older]) }),
      testLogger,
    );
    const after = createAccessTokens(
      config({ JWT_SIGNING_KEYS: JSON.stringify([newer, older]) }),
      testLogger,
    );
    const subject = { userId: crypto.randomUUID(), sessionId: crypto.randomUUID(), role: "user" };
    const oldToken = await before.issue(subject as never);
    expect(await after.verify(oldToken.token)).not.toBeNull();
    const dropped = createAccessTokens(
      config({ JWT_SIGNING_KEYS: JSON.stringify([newer]) }),
      testLogger,
    );
    expect(await dropped.verify(oldToken.token)).toBeNull();
  });

  test("refuses public, symmetric, RSA and malformed keys with one line that quotes no key", () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    const publicOnly = generateKeyPairSync("ed25519").publicKey;
    const bad = [
      JSON.stringify(publicOnly.export({ format: "jwk" })),
      JSON.stringify({ kty: "oct", k: "c2VjcmV0" }),
      rsa.export({ format: "pem", type: "pkcs8" }).toString(),
      "{not json",
      "just some text",
      JSON.stringify([
        { ...ed25519().export({ format: "jwk" }), kid: "same" },
        { ...ed25519().export({ format: "jwk" }), kid: "same" },
      ]),
    ];
    for (const value of bad) {
      let message = "";
      try {
        config({ JWT_SIGNING_KEYS: value });
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        message = (error as Error).message;
      }
      expect(message).toStartWith("JWT_SIGNING_KEYS: ");
      expect(message).not.toContain("PRIVATE KEY");
      expect(message).not.toContain('"d"');
    }
  });

  test("development generates one key under DATA_DIR and reuses it after a restart", async () => {
    const dev = parseConfig({ NODE_ENV: "development", DATA_DIR: dataDir });
    const first = loadSigningKeys(dev, testLogger);
    const second = loadSigningKeys(dev, testLogger);
    expect(second[0]?.kid).toBe(first[0]?.kid as string);
    const file = join(dataDir, "jwt-signing-key.pem");
    expect(await readFile(file, "utf8")).toContain("BEGIN PRIVATE KEY");
    expect((await stat(file)).mode & 0o077).toBe(0);
  });

  test("production without JWT_SIGNING_KEYS stops the server with one line", async () => {
    const child = Bun.spawn([process.execPath, "src/main.ts"], {
      env: {
        PATH: process.env.PATH ?? "",
        NODE_ENV: "production",
        DATABASE_URL: db.url,
        PORT: "0",
        LOG_LEVEL: "silent",
        TOKEN_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 1).toString("base64")}`,
      },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [code, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()]);
    expect(code).toBe(2);
    expect(stderr.trim().split("\n")).toEqual([
      "gatehouse: invalid configuration: JWT_SIGNING_KEYS: required in production (an Ed25519 or P-256 key)",
    ]);
  }, 20000);
});

describe("verified-token cache", () => {
  test("a token verified once is still refused after it expires", async () => {
    const key = ed25519();
    const tokens = createAccessTokens(
      config({ JWT_SIGNING_KEYS: JSON.stringify({ ...key.export({ format: "jwk" }), kid: "c" }) }),
      testLogger,
    );
    const publicUrl = "http://localhost:3000";
    // Inside the 30 s leeway for two to three more seconds.
    const exp = Math.ceil(Date.now() / 1000) - 28;
    const token = await new SignJWT({ sid: crypto.randomUUID(), role: "user" })
      .setProtectedHeader({ alg: "EdDSA", kid: "c", typ: "at+jwt" })
      .setIssuer(publicUrl)
      .setAudience(publicUrl)
      .setSubject(crypto.randomUUID())
      .setJti(crypto.randomUUID())
      .setIssuedAt(exp - 600)
      .setExpirationTime(exp)
      .sign(key);
    expect(await tokens.verify(token)).not.toBeNull();
    expect(await tokens.verify(token)).not.toBeNull();
    await Bun.sleep(3100);
    expect(await tokens.verify(token)).toBeNull();
  }, 10000);
});
