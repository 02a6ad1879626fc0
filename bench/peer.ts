import { createHmac, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { BenchPostgres } from "./database.ts";
import type { LoadRequest } from "./load.ts";
import { type ServerProcess, startServer } from "./processes.ts";

// better-auth lives in bench/peers/better-auth with its own package.json and
// lock file, so it never becomes a dependency of Gatehouse. Its modules are
// installed on first use.

export const peerDir = join(import.meta.dir, "peers", "better-auth");

export async function ensurePeerInstalled(log: (line: string) => void): Promise<void> {
  if (existsSync(join(peerDir, "node_modules", "better-auth"))) return;
  log("installing better-auth under bench/peers/better-auth (npm ci) ...");
  const npm = Bun.spawn(["npm", "ci", "--no-audit", "--no-fund"], {
    cwd: peerDir,
    stdout: "inherit",
    stderr: "inherit",
  });
  if ((await npm.exited) !== 0) throw new Error("npm ci in bench/peers/better-auth failed");
}

export type Peer = ServerProcess & {
  request: LoadRequest;
  /** BETTER_AUTH_SECRET of this process: its session cookies are signed with it. */
  secret: string;
};

export const peerSessionCookie = "better-auth.session_token";

/**
 * The session-token cookie better-auth sets for `token`: the token, a dot
 * and the base64 HMAC-SHA256 of the token under the secret, URI-encoded
 * (better-call's signCookieValue).
 */
export function peerCookieValue(token: string, secret: string): string {
  const signature = createHmac("sha256", secret).update(token).digest("base64");
  return encodeURIComponent(`${token}.${signature}`);
}

/**
 * Starts better-auth (cookie cache off or on) on its own database, signs a
 * user up through its own API and returns the get-session request carrying
 * that user's cookies (the session token, plus the session-data cookie when
 * the cache is on).
 */
export async function startPeer(
  databaseUrl: string,
  cookieCache: boolean,
  secret = randomBytes(32).toString("base64url"),
): Promise<Peer> {
  const server = await startServer({
    script: join(peerDir, "server.ts"),
    cwd: peerDir,
    env: {
      NODE_ENV: "production",
      DATABASE_URL: databaseUrl,
      COOKIE_CACHE: cookieCache ? "on" : "off",
      BETTER_AUTH_SECRET: secret,
    },
    readyPath: "/healthz",
  });
  try {
    const signUp = await fetch(`${server.baseUrl}/api/auth/sign-up/email`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: server.baseUrl },
      body: JSON.stringify({
        email: `bench-${cookieCache ? "cache" : "nocache"}-${Date.now()}@example.com`,
        password: "correct horse battery staple",
        name: "Bench User",
      }),
    });
    if (signUp.status !== 200) {
      throw new Error(`better-auth sign-up answered ${signUp.status}: ${await signUp.text()}`);
    }
    const cookie = signUp.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .join("; ");
    const request: LoadRequest = { path: "/api/auth/get-session", headers: { cookie } };
    const probe = await fetch(`${server.baseUrl}${request.path}`, { headers: { cookie } });
    const body = (await probe.json()) as { session?: unknown } | null;
    if (probe.status !== 200 || !body?.session) {
      throw new Error(`better-auth get-session answered ${probe.status} without a session`);
    }
    return { ...server, request, secret };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

export async function createPeerDatabase(
  postgres: BenchPostgres,
  name = "better_auth_bench",
): Promise<string> {
  return postgres.createDatabase(name);
}
