import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { upsertAllowlistRule } from "../sql/allowlist-rules.ts";
import { setUserState } from "../sql/users.ts";
import { freePort } from "../src/free-port.ts";
import { startTestApp, type TestApp } from "./support/app.ts";
import { TestBrowser } from "./support/browser.ts";
import { testKey } from "./support/cli.ts";
import { createTestDatabase } from "./support/database.ts";
import { fakeClient, startFakeSocialProviders } from "./support/fake-social-providers.ts";
import { routeHostsTo, socialProviderHosts } from "./support/provider-routing.ts";
import { approvedPasswordUser, knownPassword, signedInUser } from "./support/sign-in.ts";

// The nginx and Caddy snippets of docs/forward-auth.md, run as written in
// front of a real Gatehouse and a small upstream app; only addresses and
// ports are rewritten.
// Each proxy's tests skip themselves where its binary is not installed.

const nginx = Bun.which("nginx") ?? Bun.which("nginx", { PATH: "/usr/sbin:/sbin" });
const caddy = Bun.which("caddy");

const section = await readFile(resolve(import.meta.dir, "../docs/forward-auth.md"), "utf8");

function snippet(language: string): string {
  const match = new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``).exec(section);
  if (!match?.[1]) throw new Error(`no ${language} snippet in docs/forward-auth.md`);
  return match[1];
}

function replaceOnce(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`the snippet no longer contains ${from}`);
  return text.replaceAll(from, to);
}

async function waitForPort(port: number, proc: Bun.Subprocess, log: () => Promise<string>) {
  for (let i = 0; i < 100; i++) {
    if (proc.exitCode !== null) throw new Error(`proxy exited: ${await log()}`);
    try {
      await fetch(`http://127.0.0.1:${port}/`, { redirect: "manual" });
      return;
    } catch {
      await Bun.sleep(50);
    }
  }
  throw new Error(`proxy did not listen on ${port}: ${await log()}`);
}

const db = await createTestDatabase();
const fake = await startFakeSocialProviders();
const unroute = routeHostsTo(fake.origin, socialProviderHosts);
let gatehouse: TestApp;
let upstreamHits = 0;
const upstream = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch(request) {
    upstreamHits++;
    const seen: Record<string, string | null> = { url: new URL(request.url).pathname };
    for (const name of [
      "x-auth-user-id",
      "x-auth-email",
      "x-auth-role",
      "x-auth-name",
      "x-auth-mfa",
    ]) {
      seen[name] = request.headers.get(name);
    }
    return Response.json(seen);
  },
});
const dir = await mkdtemp(join(tmpdir(), "gatehouse-proxies-"));
const html = "text/html,application/xhtml+xml,*/*;q=0.8";

beforeAll(async () => {
  gatehouse = await startTestApp(db.pool, {
    // http so that the test's plain-http proxies are a valid redirect target.
    PUBLIC_URL: "http://auth.example.com",
    COOKIE_DOMAIN: ".example.com",
    TRUSTED_PROXIES: "127.0.0.1,::1",
    GITHUB_CLIENT_ID: fakeClient.id,
    GITHUB_CLIENT_SECRET: fakeClient.secret,
    TOKEN_ENCRYPTION_KEYS: testKey("k1", 1),
  });
  await upsertAllowlistRule(db.pool, { kind: "domain", value: "team.example", createdBy: null });
});
afterAll(async () => {
  unroute();
  fake.close();
  await gatehouse.close();
  upstream.stop(true);
  await db.drop();
  await rm(dir, { recursive: true, force: true });
});

let gitHubIds = 5000;
const gatehouseAddress = () => new URL(gatehouse.url).host;

/** A browser's request for the protected app, sent to the proxy on `port()`. */
const throughProxyOn =
  (port: () => number) =>
  (path: string, headers: Record<string, string> = {}) =>
    fetch(`http://127.0.0.1:${port()}${path}`, {
      headers: { host: "app.example.com", ...headers },
      redirect: "manual",
    });

/** The same behaviour through either proxy: `get` sends a request as a browser would. */
function proxyBehaviour(
  get: (path: string, headers?: Record<string, string>) => Promise<Response>,
) {
  test("a signed-in, approved user reaches the app, which sees who it is", async () => {
    const { user, cookie } = await signedInUser(db.pool, gatehouse.config, {
      isWhitelisted: true,
      fullName: "Grace Hopper",
    });
    const response = await get("/dashboard?tab=1", { cookie, accept: html });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      url: "/dashboard",
      "x-auth-user-id": user.id,
      "x-auth-email": user.email,
      "x-auth-role": "user",
      "x-auth-name": "Grace Hopper",
      "x-auth-mfa": "false",
    });
  });

  test("the app sees X-Auth-MFA: true for a sign-in that gave a second factor", async () => {
    const { user, cookie } = await signedInUser(
      db.pool,
      gatehouse.config,
      { isWhitelisted: true },
      { amr: ["pwd", "otp"] },
    );
    const response = await get("/", { cookie, accept: html });
    expect(response.status).toBe(200);
    const seen = (await response.json()) as Record<string, string | null>;
    expect(seen["x-auth-user-id"]).toBe(user.id);
    expect(seen["x-auth-mfa"]).toBe("true");
  });

  test("one sign-in at the auth host covers the app: 302, password sign-in, cookie for the domain, through", async () => {
    const password = knownPassword;
    const user = await approvedPasswordUser(db.pool, gatehouse.config);
    const first = await get("/projects/7?view=board", { accept: html });
    expect(first.status).toBe(302);
    const signInPage = new URL(first.headers.get("location") ?? "");
    expect(signInPage.searchParams.get("redirect_to")).toBe(
      "http://app.example.com/projects/7?view=board",
    );

    const login = await gatehouse.request("/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json", origin: signInPage.origin },
      body: JSON.stringify({ email: user.email, password }),
    });
    expect(login.status).toBe(200);
    const cookie = Bun.Cookie.parse(login.headers.get("set-cookie") ?? "");
    // Domain=example.com: a browser sends it to app.example.com too (RFC 6265 5.1.3).
    expect(cookie.domain).toBe("example.com");

    const back = await get("/projects/7?view=board", {
      accept: html,
      cookie: `${cookie.name}=${cookie.value}`,
    });
    expect(back.status).toBe(200);
    expect(((await back.json()) as Record<string, string>)["x-auth-user-id"]).toBe(user.id);
  });

  test("a first GitHub sign-in, started by the proxy's redirect, lands back on the app signed in for the domain", async () => {
    const id = ++gitHubIds;
    const email = `dev${id}@team.example`;
    fake.signInToGitHub({
      id,
      login: `dev${id}`,
      name: "Dev",
      emails: [{ email, primary: true, verified: true }],
    });
    const first = await get("/board?sprint=12", { accept: html });
    expect(first.status).toBe(302);
    const signInPage = first.headers.get("location") ?? "";

    // The sign-in page and the provider round trip, on the auth host.
    const browser = new TestBrowser({ "auth.example.com": gatehouse.url });
    const page = await browser.request(signInPage);
    const login = /href="(\/auth\/github\/login[^"]*)"/.exec(await page.text())?.[1];
    expect(login).toBeDefined();
    const walk = await browser.follow(`http://auth.example.com${login?.replaceAll("&amp;", "&")}`, {
      stopAt: (url) => url.host === "app.example.com",
    });
    expect(walk.response.headers.get("location")).toBe("http://app.example.com/board?sprint=12");
    const session = walk.response.headers
      .getSetCookie()
      .map((header) => Bun.Cookie.parse(header))
      .find((cookie) => cookie.name === "gatehouse_session");
    expect(session?.domain).toBe("example.com");

    const back = await get("/board?sprint=12", {
      accept: html,
      cookie: `gatehouse_session=${session?.value}`,
    });
    expect(back.status).toBe(200);
    expect(((await back.json()) as Record<string, string>)["x-auth-email"]).toBe(email);
  });

  test("X-Auth-* sent by the client are replaced by Gatehouse's answer", async () => {
    const { user, cookie } = await signedInUser(db.pool, gatehouse.config, {
      isWhitelisted: true,
      fullName: null,
    });
    const response = await get("/", {
      cookie,
      "x-auth-user-id": "00000000-0000-0000-0000-000000000000",
      "x-auth-role": "admin",
      "x-auth-name": "Mallory",
      "x-auth-mfa": "true",
    });
    expect(response.status).toBe(200);
    const seen = (await response.json()) as Record<string, string | null>;
    expect(seen["x-auth-user-id"]).toBe(user.id);
    expect(seen["x-auth-role"]).toBe("user");
    expect(seen["x-auth-name"] ?? "").toBe("");
    expect(seen["x-auth-mfa"]).toBe("false");
  });

  test("a browser without a session is sent to the sign-in page and the app is never asked", async () => {
    const before = upstreamHits;
    const response = await get("/reports/q3?year=2026&x=a%20b", {
      accept: html,
      "x-auth-user-id": "00000000-0000-0000-0000-000000000000",
    });
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get("location") ?? "");
    expect(location.origin).toBe("http://auth.example.com");
    expect(location.searchParams.get("redirect_to")).toBe(
      "http://app.example.com/reports/q3?year=2026&x=a%20b",
    );
    expect(upstreamHits).toBe(before);
  });

  test("a client's own X-Original-URL or X-Forwarded-* cannot choose redirect_to", async () => {
    const response = await get("/mine", {
      accept: html,
      "x-original-url": "http://other.example.com/chosen",
      "x-forwarded-host": "other.example.com",
      "x-forwarded-uri": "/chosen",
      "x-forwarded-proto": "http",
    });
    expect(response.status).toBe(302);
    const back = new URL(response.headers.get("location") ?? "").searchParams.get("redirect_to");
    expect([null, "http://app.example.com/mine"]).toContain(back);
  });

  test("a pending user and an inactive user get 403 and the app is never asked", async () => {
    const pending = await signedInUser(db.pool, gatehouse.config, { isWhitelisted: false });
    const inactive = await signedInUser(db.pool, gatehouse.config, { isWhitelisted: true });
    await setUserState(db.pool, inactive.user.id, { status: "inactive" });
    const before = upstreamHits;
    for (const { cookie } of [pending, inactive]) {
      expect((await get("/", { cookie, accept: html })).status).toBe(403);
    }
    expect(upstreamHits).toBe(before);
  });

  test("a health-check agent and a `//` path get no bypass", async () => {
    const before = upstreamHits;
    for (const [path, agent] of [
      ["/healthz", "kube-probe/1.30"],
      ["//admin", "ELB-HealthChecker/2.0"],
      ["/ADMIN/..;/x", "curl/8"],
    ] as const) {
      const response = await get(path, { "user-agent": agent });
      expect([302, 401]).toContain(response.status);
    }
    expect(upstreamHits).toBe(before);
  });
}

describe.skipIf(!nginx)("nginx auth_request with the documented snippet", () => {
  let port = 0;
  let proc: Bun.Subprocess;
  const errorLog = join(dir, "nginx-error.log");

  beforeAll(async () => {
    port = await freePort();
    let server = snippet("nginx");
    server = replaceOnce(server, "listen 80;", `listen 127.0.0.1:${port};`);
    server = replaceOnce(server, "http://gatehouse:3000", `http://${gatehouseAddress()}`);
    server = replaceOnce(server, "http://app:8080", `http://127.0.0.1:${upstream.port}`);
    const conf = join(dir, "nginx.conf");
    await writeFile(
      conf,
      `daemon off;
master_process off;
pid ${join(dir, "nginx.pid")};
error_log ${errorLog} warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/nginx-body;
  proxy_temp_path ${dir}/nginx-proxy;
  fastcgi_temp_path ${dir}/nginx-fastcgi;
  uwsgi_temp_path ${dir}/nginx-uwsgi;
  scgi_temp_path ${dir}/nginx-scgi;
${server}
}
`,
    );
    proc = Bun.spawn([nginx as string, "-c", conf, "-p", dir, "-e", errorLog], {
      stdout: "ignore",
      stderr: "pipe",
    });
    await waitForPort(port, proc, () => readFile(errorLog, "utf8").catch(() => ""));
  });
  afterAll(async () => {
    proc?.kill();
    await proc?.exited;
  });

  proxyBehaviour(throughProxyOn(() => port));
});

describe.skipIf(!caddy)("Caddy forward_auth with the documented snippet", () => {
  let port = 0;
  let proc: Bun.Subprocess;
  let stderr = "";

  beforeAll(async () => {
    port = await freePort();
    let site = snippet("caddyfile");
    site = replaceOnce(site, "app.example.com {", `http://app.example.com:${port} {`);
    site = replaceOnce(site, "gatehouse:3000", gatehouseAddress());
    site = replaceOnce(site, "app:8080", `127.0.0.1:${upstream.port}`);
    const conf = join(dir, "Caddyfile");
    await writeFile(conf, `{\n\tadmin off\n}\n\n${site}`);
    proc = Bun.spawn([caddy as string, "run", "--config", conf, "--adapter", "caddyfile"], {
      env: { PATH: process.env.PATH ?? "", HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
      stdout: "ignore",
      stderr: "pipe",
    });
    new Response(proc.stderr as ReadableStream).text().then((text) => {
      stderr = text;
    });
    await waitForPort(port, proc, async () => stderr);
  });
  afterAll(async () => {
    proc?.kill();
    await proc?.exited;
  });

  proxyBehaviour(throughProxyOn(() => port));
});
