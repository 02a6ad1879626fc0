import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeProtectedHeader } from "jose";
import * as client from "openid-client";
import { sql } from "slonik";
import { cliEnv, runCli } from "./support/cli.ts";
import {
  discover,
  postLogoutUri,
  providerTestSetup,
  redirectUri,
  signInThrough,
} from "./support/relying-party.ts";
import { signedInUser } from "./support/sign-in.ts";

// `gatehouse clients ...`, run as an operator would (a separate process),
// and a relying party configured from nothing but its output and discovery.
setDefaultTimeout(60_000);

const { db, app } = await providerTestSetup();
const dir = await mkdtemp(join(tmpdir(), "gatehouse-clients-"));
const env = cliEnv(db.url, dir);
afterAll(() => rm(dir, { recursive: true, force: true }));

type ClientJson = {
  client_id: string;
  client_secret?: string | null;
  name: string;
  redirect_uris: string[];
  public: boolean;
  first_party: boolean;
  allowed_scopes: string[];
  id_token_signed_response_alg: string;
  backchannel_logout_uri: string | null;
};

const add = async (...args: string[]) => {
  const result = await runCli(["clients", "add", ...args, "--json"], env);
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as ClientJson;
};

describe("gatehouse clients", () => {
  test("add prints client_id and a secret shown once, stored only hashed, audited", async () => {
    const added = await add(
      "Grafana",
      "--redirect-uri",
      redirectUri,
      "--redirect-uri",
      "https://rp.example/other",
      "--post-logout-redirect-uri",
      postLogoutUri,
      "--first-party",
    );
    expect(added.name).toBe("Grafana");
    expect(added.redirect_uris).toEqual([redirectUri, "https://rp.example/other"]);
    expect(added.public).toBe(false);
    expect(added.first_party).toBe(true);
    expect(added.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stored = await db.pool.oneFirst(sql.unsafe`
      SELECT encode(secret_hash, 'base64') FROM oauth_clients WHERE id = ${added.client_id}`);
    expect(stored).toBeString();
    expect(String(stored)).not.toContain(added.client_secret as string);
    const audited = await db.pool.oneFirst(sql.unsafe`
      SELECT count(*)::int FROM audit_events
      WHERE event_type = 'admin.client_added' AND context->>'client_id' = ${added.client_id}`);
    expect(audited).toBe(1);
  });

  test("a relying party configured from its output and discovery signs a user in", async () => {
    const added = await add("Outline", "--redirect-uri", redirectUri, "--first-party");
    const config = await discover(app, {
      clientId: added.client_id,
      secret: added.client_secret as string,
    });
    const { user, cookie } = await signedInUser(db.pool, app.config, { isWhitelisted: true });
    const tokens = await signInThrough(config, cookie);
    expect(tokens.claims()?.sub).toBe(user.id);
  });

  test("--id-token-signed-response-alg EdDSA: openid-client verifies the EdDSA ID token", async () => {
    const added = await add(
      "Ed",
      "--redirect-uri",
      redirectUri,
      "--first-party",
      "--id-token-signed-response-alg",
      "EdDSA",
    );
    expect(added.id_token_signed_response_alg).toBe("EdDSA");
    const config = await client.discovery(
      new URL(app.url),
      added.client_id,
      { id_token_signed_response_alg: "EdDSA" },
      client.ClientSecretBasic(added.client_secret as string),
      { execute: [client.allowInsecureRequests] },
    );
    const { user, cookie } = await signedInUser(db.pool, app.config, { isWhitelisted: true });
    const tokens = await signInThrough(config, cookie);
    expect(tokens.claims()?.sub).toBe(user.id);
    expect(decodeProtectedHeader(tokens.id_token as string).alg).toBe("EdDSA");
  });

  test("--backchannel-logout-uri is stored and shown", async () => {
    const added = await add(
      "Listening",
      "--redirect-uri",
      redirectUri,
      "--backchannel-logout-uri",
      "https://rp.example/backchannel-logout",
    );
    expect(added.backchannel_logout_uri).toBe("https://rp.example/backchannel-logout");
  });

  test("--public registers a client without a secret", async () => {
    const added = await add("SPA", "--redirect-uri", redirectUri, "--public");
    expect(added.public).toBe(true);
    expect(added.client_secret).toBeNull();
  });

  test("the human output names client_id and client_secret", async () => {
    const result = await runCli(["clients", "add", "Gitea", "--redirect-uri", redirectUri], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/client_id: +[0-9a-f-]{36}/);
    expect(result.stdout).toMatch(/client_secret: +[A-Za-z0-9_-]{43}/);
  });

  test("list shows clients without secrets; remove deletes one; rotate-secret prints a new one", async () => {
    const added = await add("Listed", "--redirect-uri", redirectUri);
    const listed = await runCli(["clients", "list", "--json"], env);
    const clients = JSON.parse(listed.stdout) as ClientJson[];
    const found = clients.find((c) => c.client_id === added.client_id);
    expect(found?.name).toBe("Listed");
    expect(listed.stdout).not.toContain(added.client_secret as string);
    expect(listed.stdout).not.toContain("secret");

    const rotated = await runCli(["clients", "rotate-secret", added.client_id, "--json"], env);
    expect(rotated.code).toBe(0);
    const { client_secret } = JSON.parse(rotated.stdout) as ClientJson;
    expect(client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(client_secret).not.toBe(added.client_secret);

    const removed = await runCli(["clients", "remove", added.client_id], env);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toStartWith("removed ");
    const left = await db.pool.oneFirst(sql.unsafe`
      SELECT count(*)::int FROM oauth_clients WHERE id = ${added.client_id}`);
    expect(left).toBe(0);
  });

  test("bad arguments are one line and exit 1, and change nothing", async () => {
    const before = await db.pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM oauth_clients`);
    for (const args of [
      ["clients", "add", "NoUri"],
      ["clients", "add", "Bad", "--redirect-uri", "not a url"],
      ["clients", "add", "Fragment", "--redirect-uri", "https://rp.example/cb#x"],
      ["clients", "add", "Scopes", "--redirect-uri", redirectUri, "--scope", "email"],
      ["clients", "add", "Unknown", "--redirect-uri", redirectUri, "--scope", "admin"],
      // The CLI's environment has an Ed25519 access-token key: RS256 and EdDSA only.
      [
        "clients",
        "add",
        "P256",
        "--redirect-uri",
        redirectUri,
        "--id-token-signed-response-alg",
        "ES256",
      ],
      [
        "clients",
        "add",
        "Hmac",
        "--redirect-uri",
        redirectUri,
        "--id-token-signed-response-alg",
        "HS256",
      ],
      ["clients", "remove", "not-a-uuid"],
      ["clients", "remove", crypto.randomUUID()],
      ["clients", "rotate-secret", crypto.randomUUID()],
      ["clients", "frobnicate"],
    ]) {
      const result = await runCli(args, env);
      expect(result.code, args.join(" ")).toBe(1);
      expect(result.stdout).toBe("");
      expect(result.stderr.trim().split("\n"), args.join(" ")).toHaveLength(1);
    }
    const after = await db.pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM oauth_clients`);
    expect(after).toBe(before);
  });
});
