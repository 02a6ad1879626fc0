import { afterAll, describe, expect, test } from "bun:test";
import { replaceSignInCode } from "../sql/verification-tokens.ts";
import { hashSignInCode } from "../src/sign-in/email-code.ts";
import { testKey } from "./support/cli.ts";
import { gitHubUser } from "./support/fake-social-providers.ts";
import { postForm } from "./support/requests.ts";
import { signedInUser } from "./support/sign-in.ts";
import { base, publicHost as host, landed, startSignInSite } from "./support/sign-in-site.ts";

// Every route that sends a browser somewhere it was told to go, against one
// corpus of open-redirect payloads: oauth2-proxy's and Authelia's redirect
// tests and the PayloadsAllTheThings list (slashes and backslashes, dot
// segments, tabs and newlines browsers strip, percent-encodings, userinfo,
// look-alike hosts, other schemes, Unicode). Whatever the route makes of a
// payload, the browser must land on our own origin or an allowed one.

const allowedOrigin = "https://app.example.test";
const { pool, fake, app, browser, close } = await startSignInSite({
  ALLOWED_REDIRECT_ORIGINS: allowedOrigin,
  TRUSTED_PROXIES: "127.0.0.1,::1",
  TOKEN_ENCRYPTION_KEYS: testKey("kr", 7),
  RATE_LIMIT_LOGIN_IP: "100000/5m",
  RATE_LIMIT_LOGIN_ACCOUNT: "100000/5m",
});
afterAll(close);

const evil = "evil.example";
const payloads = [
  `//${evil}`,
  `///${evil}`,
  `////${evil}/x`,
  `/\\${evil}`,
  `\\/${evil}`,
  `\\\\${evil}`,
  `/\\/${evil}`,
  `/\t/${evil}`,
  `/\r/${evil}`,
  `/\n/${evil}`,
  `\t//${evil}`,
  ` //${evil}`,
  `/%09/${evil}`,
  `/%0d/${evil}`,
  `/%0a/${evil}`,
  `%2f%2f${evil}`,
  `/%2f%2f${evil}`,
  `%5c%5c${evil}`,
  `/%5c${evil}`,
  `/.//${evil}`,
  `/././/${evil}`,
  `/..//${evil}`,
  `/x/..//${evil}`,
  `/%2e//${evil}`,
  `/%2E%2E//${evil}`,
  `/.%2f/${evil}`,
  `/./\\${evil}`,
  `https:${evil}`,
  `https:/${evil}`,
  `http:\\\\${evil}`,
  `https:/\\${evil}`,
  `//${evil}@${host}`,
  `javascript:alert(1)`,
  `JaVaScRiPt:alert(1)`,
  `javascript://%0aalert(1)`,
  `java\tscript:alert(1)`,
  `data:text/html,<script>alert(1)</script>`,
  `vbscript:msgbox(1)`,
  `https://${evil}`,
  `http://${evil}`,
  `ftp://${evil}`,
  `${base}//${evil}`,
  `${base}/.//${evil}`,
  `${base}/%2e//${evil}`,
  `${base}/%2e%2e//${evil}`,
  `https://${host}@${evil}`,
  `http://${host}@${evil}`,
  `https://${host}:443@${evil}`,
  `https://${host}%40${evil}`,
  `http://evil%2e${host}`,
  `https://${host}.${evil}`,
  `https://evil${host}`,
  `https://${evil}#${host}`,
  `https://${evil}?${host}`,
  `https://${evil}\\@${host}`,
  `https://${host}\\@${evil}`,
  `${allowedOrigin}.${evil}`,
  `${allowedOrigin}@${evil}`,
  `//evil\u3002example`,
  `//evil%E3%80%82example`,
  `/\u3002/${evil}`,
  `//\u24d4\u24e5\u24d8\u24db.example`,
  `https://\u24d4\u24e5\u24d8\u24db.example`,
  `/\u2028//${evil}`,
  `\u0000//${evil}`,
  `/%00//${evil}`,
  `/x\r\nLocation: https://${evil}`,
  `/%0d%0aLocation:%20https://${evil}`,
  `/%0d%0aSet-Cookie:%20x=1`,
  `\ud800//${evil}`,
  `${"/".repeat(3000)}${evil}`,
];
// Targets the routes must honour, so the corpus is not passed by refusing everything.
const honoured: [string, string][] = [
  ["/dashboard?tab=1#top", "/dashboard?tab=1#top"],
  [`${base}/app/x`, "/app/x"],
  [`${allowedOrigin}/x`, `${allowedOrigin}/x`],
];

/**
 * Where a browser that got `location` on `page` goes, read the way browsers
 * read it (WHATWG URL: tabs and newlines dropped, backslashes are slashes).
 */
function landing(location: string, page: string): URL {
  return new URL(location, page);
}

function expectSameOriginOrAllowed(location: string | null, page: string, payload: string) {
  const where = `${JSON.stringify(payload)} → ${JSON.stringify(location)}`;
  expect(location, where).not.toBeNull();
  const value = location as string;
  // A relative answer is a path of ours, never one a browser reads as a host.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point
  const stripped = value.replace(/[\t\n\r]/g, "").replace(/^[\u0000-\u0020]+/, "");
  expect(/^[/\\]{2}/.test(stripped), where).toBe(false);
  const url = landing(value, page);
  expect([base, allowedOrigin], where).toContain(url.origin);
}

/** A query value as raw bytes; a lone surrogate goes out as the bytes a hostile client would send. */
function queryValue(text: string): string {
  return text.isWellFormed()
    ? encodeURIComponent(text)
    : encodeURIComponent(text.toWellFormed()).replaceAll("%EF%BF%BD", "%ED%A0%80");
}

function decodeAttribute(value: string): string {
  return value
    .replace(/&#x([0-9a-f]+);/gi, (_, hex) => String.fromCodePoint(Number.parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, dec) => String.fromCodePoint(Number(dec)))
    .replaceAll("&quot;", '"')
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&amp;", "&");
}

const password = "correct horse battery staple";
// Cheap parameters: the test signs in once per payload.
const passwordHash = await Bun.password.hash(password, {
  algorithm: "argon2id",
  memoryCost: 1024,
  timeCost: 1,
});
const member = await signedInUser(pool, app.config, { passwordHash, isWhitelisted: true });
const memberEmail = member.user.email as string;
const administrator = await signedInUser(pool, app.config, { role: "admin", isWhitelisted: true });
/** One GitHub person signing in again and again (the same account each time). */
const redirectedPerson = gitHubUser("redirected@somewhere.example");
const pendingUser = await signedInUser(pool, app.config);

/** Each route: the payload in, the Location (or link) a browser would follow out, and the page it is on. */
type Route = (
  payload: string,
) => Promise<{ location?: string | null; page: string; refused?: boolean }>;

const routes: Record<string, Route> = {
  "form sign-in (POST /auth/login) Location": async (payload) => {
    const response = await postForm(
      app,
      "/auth/login",
      { email: memberEmail, password, redirect_to: payload },
      { origin: base },
    );
    const page = `${base}/auth/login`;
    // Refusing the form (a redirect_to over 2 KB) sends the browser nowhere, which is safe too.
    if (response.status === 400 && !response.headers.has("location"))
      return { refused: true, page };
    expect(response.status).toBe(303);
    return { location: response.headers.get("location"), page };
  },

  "email-code form sign-in (POST /auth/email-code/verify) Location": async (payload) => {
    // A code planted as the mail would have brought it: one per payload.
    await replaceSignInCode(pool, {
      codeHash: hashSignInCode(member.user.id, "424242"),
      userId: member.user.id,
      expiresAt: new Date(Date.now() + 60_000),
    });
    const response = await postForm(
      app,
      "/auth/email-code/verify",
      { email: memberEmail, code: "424242", redirect_to: payload },
      { origin: base },
    );
    const page = `${base}/auth/email-code/verify`;
    if (response.status === 400 && !response.headers.has("location"))
      return { refused: true, page };
    expect(response.status).toBe(303);
    return { location: response.headers.get("location"), page };
  },

  "sign-in page's Continue link": async (payload) => {
    const response = await app.request(`/?redirect_to=${queryValue(payload)}`, {
      headers: { cookie: member.cookie },
    });
    expect(response.status).toBe(200);
    const href = /<a class="next" href="([^"]*)"/.exec(await response.text())?.[1];
    return { location: href === undefined ? null : decodeAttribute(href), page: `${base}/` };
  },

  "provider sign-in (GET /auth/github/login?redirect_to=) callback Location": async (payload) => {
    fake.signInToGitHub(redirectedPerson);
    const b = browser();
    const { hops } = await b.follow(
      `${base}/auth/github/login?redirect_to=${queryValue(payload)}`,
      {
        stopAt: landed,
      },
    );
    const last = hops.at(-1);
    expect(last?.url).toStartWith(`${base}/auth/github/callback`);
    return { location: last?.location ?? null, page: last?.url ?? base };
  },

  "forward-auth's sign-in redirect, then the page's Continue link": async (payload) => {
    const uri = payload.startsWith("/") ? payload : `/${payload}`;
    // A header value cannot carry control characters or non-Latin-1 text.
    if (!/^[\x20-\x7e]*$/.test(uri)) return { location: "/", page: base };
    const response = await app.request("/auth/verify", {
      redirect: "manual",
      headers: {
        accept: "text/html",
        "x-forwarded-method": "GET",
        "x-forwarded-proto": "https",
        "x-forwarded-host": host,
        "x-forwarded-uri": uri,
      },
    });
    expect(response.status).toBe(302);
    const signIn = response.headers.get("location");
    expectSameOriginOrAllowed(signIn, `${base}/`, payload);
    const page = new URL(signIn as string);
    const continued = await app.request(`${page.pathname}${page.search}`, {
      headers: { cookie: member.cookie },
    });
    const href = /<a class="next" href="([^"]*)"/.exec(await continued.text())?.[1];
    return { location: href === undefined ? "/" : decodeAttribute(href), page: page.href };
  },

  "admin page form's back field Location": async (payload) => {
    const response = await app.request(`/admin/forms/users/${pendingUser.user.id}`, {
      method: "POST",
      redirect: "manual",
      headers: {
        cookie: administrator.cookie,
        "content-type": "application/x-www-form-urlencoded",
        origin: base,
        "sec-fetch-site": "same-origin",
      },
      body: new URLSearchParams({ action: "approve", back: payload }).toString(),
    });
    const page = `${base}/admin/forms/users/${pendingUser.user.id}`;
    // Only /admin pages are a back: anything else is a 400 that goes nowhere.
    if (response.status === 400 && !response.headers.has("location"))
      return { refused: true, page };
    expect(response.status).toBe(303);
    return { location: response.headers.get("location"), page };
  },

  "page sign-out (POST /sign-out?redirect_to=) Location": async (payload) => {
    const response = await app.request(`/sign-out?redirect_to=${queryValue(payload)}`, {
      method: "POST",
      redirect: "manual",
      headers: { origin: base, "sec-fetch-site": "same-origin" },
    });
    expect(response.status).toBe(303);
    return { location: response.headers.get("location"), page: `${base}/sign-out` };
  },
};

describe("no route redirects off our origin, whatever redirect_to says", () => {
  for (const [name, route] of Object.entries(routes)) {
    test(`${name}: every payload lands on our origin or an allowed one`, async () => {
      for (const payload of payloads) {
        const { location, page, refused } = await route(payload);
        if (!refused) expectSameOriginOrAllowed(location ?? null, page, payload);
      }
    });
  }

  test("allowed targets are still honoured", async () => {
    for (const [target, expected] of honoured) {
      for (const name of [
        "form sign-in (POST /auth/login) Location",
        "sign-in page's Continue link",
        "provider sign-in (GET /auth/github/login?redirect_to=) callback Location",
      ]) {
        const { location } = await (routes[name] as Route)(target);
        expect(location, `${name}: ${target}`).toBe(expected);
      }
    }
  });

  test("the dot-segment payloads that once escaped now land on a path of ours", async () => {
    for (const payload of [`/.//${evil}`, `/%2e//${evil}`, `${base}//${evil}`]) {
      const { location } = await (routes["form sign-in (POST /auth/login) Location"] as Route)(
        payload,
      );
      expect(location).toBe(`/${evil}`);
    }
  });
});
