import { afterAll, describe, expect, test } from "bun:test";
import { hashPassword } from "../src/password/hashing.ts";
import { startTestApp } from "./support/app.ts";
import { createTestDatabase } from "./support/database.ts";
import { signedInUser } from "./support/sign-in.ts";

// CORS as the server answers it: which routes, which origins, which headers.
// tests/cors-browser.test.ts checks what a real browser then does with it.

const allowed = "https://app.example.test";
const unlisted = "https://evil.example.test";
const password = "correct horse battery staple";

const db = await createTestDatabase();
const plain = await startTestApp(db.pool);
const app = await startTestApp(db.pool, { CORS_ALLOWED_ORIGINS: `${allowed},http://127.0.0.1:1` });
afterAll(async () => {
  await plain.close();
  await app.close();
  await db.drop();
});

const user = await signedInUser(db.pool, app.config, {
  isWhitelisted: true,
  passwordHash: await hashPassword(password, app.config.passwords),
});
const email = user.user.email ?? "";

const corsHeaders = (response: Response) =>
  [...response.headers.keys()].filter((name) => name.startsWith("access-control-"));

const preflight = (target: typeof app, path: string, origin: string, method = "POST") =>
  target.request(path, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": method,
      "access-control-request-headers": "authorization,content-type",
    },
  });

async function passwordGrant(target: typeof app, headers: Record<string, string>, form = false) {
  const fields = { grant_type: "password", email, password };
  return target.request("/auth/token", {
    method: "POST",
    headers: {
      "content-type": form ? "application/x-www-form-urlencoded" : "application/json",
      ...headers,
    },
    body: form ? new URLSearchParams(fields).toString() : JSON.stringify(fields),
  });
}

describe("without CORS_ALLOWED_ORIGINS", () => {
  test("no route answers a CORS header, to a preflight or a request (the JWKS keeps its own *)", async () => {
    for (const path of ["/auth/token", "/auth/revoke", "/me", "/me/sessions"]) {
      expect(corsHeaders(await preflight(plain, path, allowed))).toEqual([]);
    }
    const token = await passwordGrant(plain, { origin: allowed });
    expect(corsHeaders(token)).toEqual([]);
    const me = await plain.request("/me", { headers: { origin: allowed } });
    expect(corsHeaders(me)).toEqual([]);
    const jwks = await plain.request("/.well-known/jwks.json", { headers: { origin: allowed } });
    expect(corsHeaders(jwks)).toEqual(["access-control-allow-origin"]);
    expect(jwks.headers.get("access-control-allow-origin")).toBe("*");
  });
});

describe("with CORS_ALLOWED_ORIGINS", () => {
  test("a preflight from an allowed origin is answered and cached, without credentials", async () => {
    const response = await preflight(app, "/auth/token", allowed);
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe(allowed);
    expect(response.headers.get("access-control-allow-methods")).toBe("GET,POST,PATCH,DELETE");
    expect(response.headers.get("access-control-allow-headers")).toBe("Authorization,Content-Type");
    expect(response.headers.get("access-control-max-age")).toBe("7200");
    expect(response.headers.get("access-control-allow-credentials")).toBeNull();
    expect(response.headers.get("vary")).toContain("Origin");
  });

  test("the token, revocation, JWKS and /me routes answer preflights; an unlisted origin is not named", async () => {
    for (const [path, method] of [
      ["/auth/token", "POST"],
      ["/auth/revoke", "POST"],
      ["/.well-known/jwks.json", "GET"],
      ["/me", "PATCH"],
      ["/me", "DELETE"],
      ["/me/sessions", "GET"],
      ["/me/sessions/00000000-0000-0000-0000-000000000000", "DELETE"],
      ["/me/mfa/totp", "POST"],
    ] as const) {
      const ok = await preflight(app, path, allowed, method);
      expect([path, ok.headers.get("access-control-allow-origin")]).toEqual([path, allowed]);
      const refused = await preflight(app, path, unlisted, method);
      expect([path, corsHeaders(refused)]).toEqual([path, []]);
    }
  });

  test("forward-auth, the pages, the admin API and the cookie routes get no CORS at all", async () => {
    for (const path of [
      "/auth/verify",
      "/auth/login",
      "/auth/logout",
      "/auth/signup",
      "/auth/token/session",
      "/admin/users",
      "/openapi.json",
      "/",
    ]) {
      expect([path, corsHeaders(await preflight(app, path, allowed))]).toEqual([path, []]);
      const get = await app.request(path, { headers: { origin: allowed } });
      expect([path, corsHeaders(get)]).toEqual([path, []]);
    }
    const verify = await app.request("/auth/verify", {
      headers: { origin: allowed, cookie: user.cookie },
    });
    expect(verify.status).toBe(200);
    expect(corsHeaders(verify)).toEqual([]);
    expect(verify.headers.get("vary") ?? "").not.toContain("Origin");
  });

  test("the password grant and /me with its bearer token answer an allowed origin, and name it", async () => {
    const grant = await passwordGrant(app, { origin: allowed, "sec-fetch-site": "cross-site" });
    expect(grant.status).toBe(200);
    expect(grant.headers.get("access-control-allow-origin")).toBe(allowed);
    expect(grant.headers.get("access-control-allow-credentials")).toBeNull();
    const { access_token } = (await grant.json()) as { access_token: string };
    const me = await app.request("/me", {
      headers: { origin: allowed, authorization: `Bearer ${access_token}` },
    });
    expect(me.status).toBe(200);
    expect(me.headers.get("access-control-allow-origin")).toBe(allowed);
    expect(((await me.json()) as { email: string }).email).toBe(email);
  });

  test("a refusal names the allowed origin too, and exposes WWW-Authenticate and the request id", async () => {
    const me = await app.request("/me", {
      headers: { origin: allowed, authorization: "Bearer not-a-token" },
    });
    expect(me.status).toBe(401);
    expect(me.headers.get("access-control-allow-origin")).toBe(allowed);
    expect(me.headers.get("access-control-expose-headers")).toBe(
      "Retry-After,WWW-Authenticate,X-Request-Id",
    );
  });

  test("an unlisted origin's request gets no CORS header, so its page cannot read the answer", async () => {
    const grant = await passwordGrant(app, { origin: unlisted, "sec-fetch-site": "cross-site" });
    expect(grant.status).toBe(200);
    expect(corsHeaders(grant)).toEqual([]);
  });

  test("an OAuth library's form post to /auth/token passes CSRF from an allowed origin, not from another", async () => {
    const fromApp = await passwordGrant(
      app,
      { origin: allowed, "sec-fetch-site": "cross-site" },
      true,
    );
    expect(fromApp.status).toBe(200);
    const fromElsewhere = await passwordGrant(
      app,
      { origin: unlisted, "sec-fetch-site": "cross-site" },
      true,
    );
    expect(fromElsewhere.status).toBe(403);
    expect(((await fromElsewhere.json()) as { code: string }).code).toBe("csrf_failed");
  });

  test("a cookie-carrying form post from an allowed origin is still refused by the CSRF check", async () => {
    const victim = await signedInUser(db.pool, app.config, { isWhitelisted: true });
    for (const path of ["/auth/token", "/auth/revoke", "/me/mfa/totp"]) {
      const response = await app.request(path, {
        method: "POST",
        headers: {
          origin: allowed,
          "sec-fetch-site": "same-site",
          "content-type": "application/x-www-form-urlencoded",
          cookie: victim.cookie,
        },
        body: "token=x",
      });
      expect([path, response.status]).toEqual([path, 403]);
      expect(((await response.json()) as { code: string }).code).toBe("csrf_failed");
    }
    const logout = await app.request("/auth/logout", {
      method: "POST",
      headers: {
        origin: allowed,
        "content-type": "application/x-www-form-urlencoded",
        cookie: victim.cookie,
      },
    });
    expect(logout.status).toBe(403);
    expect((await app.request("/me", { headers: { cookie: victim.cookie } })).status).toBe(200);
  });
});
