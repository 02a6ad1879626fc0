import { afterAll, describe, expect, test } from "bun:test";
import { generateKeyPairSync } from "node:crypto";
import { sql } from "slonik";
import { insertRefreshToken } from "../sql/refresh-tokens.ts";
import { insertUser } from "../sql/users.ts";
import { freePort } from "../src/free-port.ts";
import { sessionCookieName } from "../src/http/session-cookie.ts";
import { createSession, hashSecret } from "../src/sessions/sessions.ts";
import { startTestApp, type TestApp } from "./support/app.ts";
import { createTestDatabase } from "./support/database.ts";
import { cookieHeader, cookiesSet, postForm } from "./support/requests.ts";
import { testPasswordHash } from "./support/sign-in.ts";
import { startTestSmtpServer, tokenFromMail } from "./support/smtp.ts";

const { pool, drop } = await createTestDatabase();
const smtp = await startTestSmtpServer();
const env = { TRUST_PROXY_HOPS: "1", SMTP_URL: smtp.url, PUBLIC_URL: "http://gatehouse.test" };
const app = await startTestApp(pool, env);
afterAll(async () => {
  await app.close();
  await smtp.close();
  await drop();
});

const password = "correct horse battery staple";
let counter = 0;
const nextEmail = (name = "user") => `${name}${++counter}@example.com`;
let ipCounter = 0;
const nextIp = () => `198.51.100.${++ipCounter}`;

function post(
  path: string,
  body: unknown,
  init: { ip?: string; cookie?: string; target?: TestApp } = {},
) {
  return (init.target ?? app).request(path, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-forwarded-for": init.ip ?? nextIp(),
      origin: app.config.http.PUBLIC_URL,
      ...(init.cookie ? { cookie: init.cookie } : {}),
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

const cookieOf = (response: Response) => response.headers.get("set-cookie")?.split(";")[0] ?? "";

async function count(table: string): Promise<number> {
  return Number(
    await pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM ${sql.identifier([table])}`),
  );
}

async function auditTypes(userId: string): Promise<string[]> {
  const rows = (await pool.any(sql.unsafe`
    SELECT event_type, result FROM audit_events WHERE user_id = ${userId}
    ORDER BY occurred_at, id`)) as readonly { event_type: string; result: string }[];
  return rows.map((r) => `${r.event_type}:${r.result}`);
}

/** Signs up, signs in and confirms through the mail, as a new user would. */
async function verifiedAccount(email = nextEmail()) {
  expect((await post("/auth/signup", { email, password })).status).toBe(201);
  const mail = await smtp.waitForMail(email, /Confirm/);
  const cookie = await loginCookie(email);
  const token = tokenFromMail(mail, "/auth/email/verify");
  expect((await post("/auth/email/verify", { token }, { cookie })).status).toBe(200);
  const userId = String(
    await pool.oneFirst(sql.unsafe`SELECT id FROM users WHERE email = ${email}`),
  );
  return { email, userId };
}

async function loginCookie(email: string, pw = password): Promise<string> {
  const response = await post("/auth/login", { email, password: pw });
  expect(response.status).toBe(200);
  return cookieOf(response);
}

describe("sign-up and verification", () => {
  test("sign-up → mail → verify → login", async () => {
    const email = nextEmail("new");
    const signup = await post("/auth/signup", { email, password, full_name: "Ada Lovelace" });
    expect(signup.status).toBe(201);
    expect(signup.headers.get("set-cookie")).toBeNull();
    const mail = await smtp.waitForMail(email, /Confirm your email/);
    expect(mail.source).toContain("Content-Type: text/plain");
    expect(mail.source).toContain("Content-Type: text/html");
    expect(mail.source).toContain("http://gatehouse.test/auth/email/verify?token=");
    const token = tokenFromMail(mail, "/auth/email/verify");
    // Only the token's hash is stored.
    const stored = await pool.oneFirst(sql.unsafe`
      SELECT count(*)::int FROM verification_tokens WHERE token_hash = ${sql.binary(hashSecret(token))}`);
    expect(stored).toBe(1);

    // Unverified users may sign in (to resend the mail) but are not approved.
    const early = await loginCookie(email);
    const meBefore = (await (await app.request("/me", { headers: { cookie: early } })).json()) as {
      email_verified: boolean;
      is_whitelisted: boolean;
      full_name: string;
    };
    expect(meBefore).toMatchObject({
      email_verified: false,
      is_whitelisted: false,
      full_name: "Ada Lovelace",
    });

    const verified = await post("/auth/email/verify", { token }, { cookie: early });
    expect(verified.status).toBe(200);
    expect(
      ((await verified.json()) as { user: { email_verified: boolean } }).user.email_verified,
    ).toBe(true);
    const cookie = await loginCookie(email);
    const me = (await (await app.request("/me", { headers: { cookie } })).json()) as {
      email_verified: boolean;
    };
    expect(me.email_verified).toBe(true);
    const userId = String(
      await pool.oneFirst(sql.unsafe`SELECT id FROM users WHERE email = ${email}`),
    );
    expect(await auditTypes(userId)).toEqual([
      "signup:success",
      "login.succeeded:success",
      "email.verified:success",
      "login.succeeded:success",
    ]);
  });

  test("a verification link works once", async () => {
    const email = nextEmail();
    await post("/auth/signup", { email, password });
    const token = tokenFromMail(await smtp.waitForMail(email), "/auth/email/verify");
    const cookie = await loginCookie(email);
    const answers = await Promise.all([
      post("/auth/email/verify", { token }, { cookie }),
      post("/auth/email/verify", { token }, { cookie }),
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 400]);
    const refused = answers.find((a) => a.status === 400);
    expect(refused?.headers.get("content-type")).toBe("application/problem+json");
    if (!refused) throw new Error("expected one refusal");
    expect(((await refused.json()) as { errors: { pointer: string }[] }).errors[0]?.pointer).toBe(
      "#/token",
    );
  });

  test("resending the mail invalidates the older link", async () => {
    const email = nextEmail();
    await post("/auth/signup", { email, password });
    const first = tokenFromMail(await smtp.waitForMail(email), "/auth/email/verify");
    expect((await post("/auth/email/resend", { email })).status).toBe(202);
    let second = first;
    for (let i = 0; i < 100 && second === first; i++) {
      const mails = smtp.received.filter((m) => m.to.includes(email));
      if (mails.length > 1)
        second = tokenFromMail(mails[1] as (typeof mails)[number], "/auth/email/verify");
      else await Bun.sleep(20);
    }
    expect(second).not.toBe(first);
    const cookie = await loginCookie(email);
    expect((await post("/auth/email/verify", { token: first }, { cookie })).status).toBe(400);
    expect((await post("/auth/email/verify", { token: second }, { cookie })).status).toBe(200);
  });

  test("sign-up with a taken address answers the same 201 and mails the owner a notice", async () => {
    const { email, userId } = await verifiedAccount();
    const users = await count("users");
    const again = await post("/auth/signup", {
      email: email.toUpperCase(),
      password: "another fine passphrase",
    });
    const fresh = await post("/auth/signup", {
      email: nextEmail(),
      password: "another fine passphrase",
    });
    expect(again.status).toBe(201);
    expect(await again.json()).toEqual(await fresh.json());
    expect(again.headers.get("set-cookie")).toBeNull();
    expect(await count("users")).toBe(users + 1);
    const notice = await smtp.waitForMail(email, /tried to create an account/);
    expect(notice.source).not.toContain("token=");
    // The owner's password is untouched.
    await loginCookie(email);
    expect(await auditTypes(userId)).toContain("signup:failure");
  });

  test("resend answers 202 for unknown, verified and unverified addresses alike", async () => {
    const { email } = await verifiedAccount();
    const answers = await Promise.all(
      [email, "nobody-here@example.com"].map((e) => post("/auth/email/resend", { email: e })),
    );
    expect(answers.map((a) => a.status)).toEqual([202, 202]);
    const [a, b] = await Promise.all(answers.map((r) => r.json()));
    expect(a).toEqual(b);
  });
});

describe("password reset", () => {
  async function resetToken(email: string): Promise<string> {
    const before = smtp.received.filter(
      (m) => m.to.includes(email) && /Reset/.test(m.subject),
    ).length;
    expect((await post("/auth/password/forgot", { email })).status).toBe(202);
    for (let i = 0; i < 250; i++) {
      const mails = smtp.received.filter((m) => m.to.includes(email) && /Reset/.test(m.subject));
      const latest = mails[before];
      if (latest) return tokenFromMail(latest, "/auth/password/reset");
      await Bun.sleep(20);
    }
    throw new Error("no reset mail");
  }

  test("forgot answers known and unknown addresses the same way; only the known one gets mail", async () => {
    const { email } = await verifiedAccount();
    const unknown = nextEmail("ghost");
    const known = await post("/auth/password/forgot", { email });
    const other = await post("/auth/password/forgot", { email: unknown });
    expect([known.status, other.status]).toEqual([202, 202]);
    expect(await known.json()).toEqual(await other.json());
    await smtp.waitForMail(email, /Reset your password/);
    await Bun.sleep(200);
    expect(smtp.received.some((m) => m.to.includes(unknown))).toBe(false);
  });

  test("two concurrent uses of one reset token: exactly one 200", async () => {
    const { email } = await verifiedAccount();
    const token = await resetToken(email);
    const answers = await Promise.all(
      ["first new passphrase", "second new passphrase"].map((pw) =>
        post("/auth/password/reset", { token, password: pw }),
      ),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, 400]);
    const winner = answers[0]?.status === 200 ? "first new passphrase" : "second new passphrase";
    const loser = winner.startsWith("first") ? "second new passphrase" : "first new passphrase";
    await loginCookie(email, winner);
    expect((await post("/auth/login", { email, password: loser })).status).toBe(401);
  });

  test("a reset revokes every session and refresh token of the user", async () => {
    const { email, userId } = await verifiedAccount();
    const cookies = [await loginCookie(email), await loginCookie(email)];
    const { session } = await createSession(pool, {
      userId,
      ttlMs: 3_600_000,
      idleTtlMs: 3_600_000,
      ip: null,
      userAgent: null,
    });
    await insertRefreshToken(pool, {
      tokenHash: hashSecret(crypto.randomUUID()),
      familyId: crypto.randomUUID(),
      userId,
      sessionId: session.id,
      parentId: null,
      deviceInfo: null,
      expiresAt: new Date(Date.now() + 3_600_000),
    });
    const token = await resetToken(email);
    expect(
      (await post("/auth/password/reset", { token, password: "a brand new passphrase" })).status,
    ).toBe(200);
    for (const cookie of cookies) {
      expect((await app.request("/me", { headers: { cookie } })).status).toBe(401);
    }
    const live = await pool.oneFirst(sql.unsafe`
      SELECT (SELECT count(*) FROM sessions WHERE user_id = ${userId} AND revoked_at IS NULL)
           + (SELECT count(*) FROM refresh_tokens WHERE user_id = ${userId} AND revoked_at IS NULL)`);
    expect(Number(live)).toBe(0);
    expect((await post("/auth/login", { email, password })).status).toBe(401);
    await loginCookie(email, "a brand new passphrase");
    expect(await auditTypes(userId)).toContain("password.reset:success");
    await smtp.waitForMail(email, /password was changed/);
  });

  test("a reset stops bearer tokens and refresh tokens issued by the password grant", async () => {
    const { email } = await verifiedAccount();
    const issued = await post("/auth/token", { grant_type: "password", email, password });
    expect(issued.status).toBe(200);
    const pair = (await issued.json()) as { access_token: string; refresh_token: string };
    const bearer = { authorization: `Bearer ${pair.access_token}` };
    expect((await app.request("/me", { headers: bearer })).status).toBe(200);
    // An access token's iat has whole seconds, so one issued in the very
    // second of the reset still passes (a fresh sign-in right after must work).
    await Bun.sleep(1100);
    const token = await resetToken(email);
    expect(
      (await post("/auth/password/reset", { token, password: "after the reset phrase" })).status,
    ).toBe(200);
    expect((await app.request("/me", { headers: bearer })).status).toBe(401);
    const refreshed = await post("/auth/token", {
      grant_type: "refresh_token",
      refresh_token: pair.refresh_token,
    });
    expect(refreshed.status).toBe(400);
  });

  test("a reset lifts a lockout and verifies the address", async () => {
    const email = nextEmail();
    await post("/auth/signup", { email, password });
    await smtp.waitForMail(email);
    for (let i = 0; i < 5; i++) await post("/auth/login", { email, password: "wrong password" });
    expect((await post("/auth/login", { email, password })).status).toBe(423);
    const token = await resetToken(email);
    expect(
      (await post("/auth/password/reset", { token, password: "unlocked new passphrase" })).status,
    ).toBe(200);
    const cookie = await loginCookie(email, "unlocked new passphrase");
    const me = (await (await app.request("/me", { headers: { cookie } })).json()) as {
      email_verified: boolean;
    };
    expect(me.email_verified).toBe(true);
  });

  test("a new reset link invalidates the older one, and a refused password keeps the link", async () => {
    const { email } = await verifiedAccount();
    const first = await resetToken(email);
    const second = await resetToken(email);
    expect(
      (await post("/auth/password/reset", { token: first, password: "fresh passphrase one" }))
        .status,
    ).toBe(400);
    const weak = await post("/auth/password/reset", { token: second, password: "password" });
    expect(weak.status).toBe(400);
    expect(((await weak.json()) as { errors: { pointer: string }[] }).errors[0]?.pointer).toBe(
      "#/password",
    );
    expect(
      (await post("/auth/password/reset", { token: second, password: "fresh passphrase two" }))
        .status,
    ).toBe(200);
  });
});

describe("password change", () => {
  test("a change keeps the current session and signs out every other", async () => {
    const { email, userId } = await verifiedAccount();
    const current = await loginCookie(email);
    const other = await loginCookie(email);
    const changed = await post(
      "/auth/password/change",
      { current_password: password, new_password: "my changed passphrase" },
      { cookie: current },
    );
    expect(changed.status).toBe(200);
    expect((await app.request("/me", { headers: { cookie: current } })).status).toBe(200);
    expect((await app.request("/me", { headers: { cookie: other } })).status).toBe(401);
    expect((await post("/auth/login", { email, password })).status).toBe(401);
    await loginCookie(email, "my changed passphrase");
    expect(await auditTypes(userId)).toContain("password.changed:success");
  });

  test("a wrong current password is a field error and changes nothing", async () => {
    const { email } = await verifiedAccount();
    const cookie = await loginCookie(email);
    const other = await loginCookie(email);
    const answer = await post(
      "/auth/password/change",
      { current_password: "not my password", new_password: "my changed passphrase" },
      { cookie },
    );
    expect(answer.status).toBe(400);
    expect(((await answer.json()) as { errors: { pointer: string }[] }).errors[0]?.pointer).toBe(
      "#/current_password",
    );
    expect((await app.request("/me", { headers: { cookie: other } })).status).toBe(200);
    await loginCookie(email);
  });

  test("a change needs a session", async () => {
    const answer = await post("/auth/password/change", {
      current_password: password,
      new_password: "whatever passphrase",
    });
    expect(answer.status).toBe(401);
  });
});

describe("password rules", () => {
  const refused = [
    ["short", "Use at least 8 characters."],
    ["password1", "too common"],
    ["iloveyou", "too common"],
    ["QWERTYUIOP", "too common"],
    ["a".repeat(129), "at most 128"],
    ["aaaaaaaaaa", "single character"],
  ] as const;

  test("common and too-short passwords are refused with a field error, and nothing is written", async () => {
    const users = await count("users");
    for (const [pw, reason] of refused) {
      const answer = await post("/auth/signup", { email: nextEmail(), password: pw });
      expect(answer.status).toBe(400);
      const body = (await answer.json()) as { errors: { pointer: string; detail: string }[] };
      expect(body.errors).toHaveLength(1);
      expect(body.errors[0]?.pointer).toBe("#/password");
      expect(body.errors[0]?.detail).toContain(reason);
    }
    expect(await count("users")).toBe(users);
  });

  test("the address itself is refused as a password", async () => {
    const email = nextEmail("samename");
    const answer = await post("/auth/signup", { email, password: email });
    expect(answer.status).toBe(400);
  });

  test("any Unicode is accepted and lengths count characters after NFKC", async () => {
    const email = nextEmail("unicode");
    // 8 characters, 24 bytes in UTF-8: long enough.
    const japanese = "日本語のパスワド";
    expect((await post("/auth/signup", { email, password: japanese })).status).toBe(201);
    // Seven full-width letters are seven characters after NFKC: too short.
    expect(
      (await post("/auth/signup", { email: nextEmail(), password: "ｐａｓｓｗｏｒ" })).status,
    ).toBe(400);
    await loginCookie(email, japanese);
  });

  test("PASSWORD_MIN_LENGTH raises the floor", async () => {
    const strict = await startTestApp(pool, { ...env, PASSWORD_MIN_LENGTH: "15" });
    try {
      const answer = await post(
        "/auth/signup",
        { email: nextEmail(), password: "fourteen chars" },
        { target: strict },
      );
      expect(answer.status).toBe(400);
      const ok = await post(
        "/auth/signup",
        { email: nextEmail(), password: "fifteen chars!!" },
        { target: strict },
      );
      expect(ok.status).toBe(201);
    } finally {
      await strict.close();
    }
  });
});

describe("mail delivery", () => {
  test("SMTP down at sign-up loses nothing: the account exists, the failure is audited, resend works later", async () => {
    const port = await freePort();
    const down = await startTestApp(pool, {
      ...env,
      SMTP_URL: `smtp://127.0.0.1:${port}`,
      SMTP_TIMEOUT: "2s",
    });
    try {
      const email = nextEmail("smtpdown");
      const answer = await post("/auth/signup", { email, password }, { target: down });
      expect(answer.status).toBe(201);
      const userId = String(
        await pool.oneFirst(sql.unsafe`SELECT id FROM users WHERE email = ${email}`),
      );
      let audited: string[] = [];
      for (let i = 0; i < 200 && !audited.includes("mail.failed:failure"); i++) {
        await Bun.sleep(25);
        audited = await auditTypes(userId);
      }
      expect(audited).toEqual(["signup:success", "mail.failed:failure"]);
      // The mail server comes back; the user asks again.
      const later = await startTestSmtpServer(port);
      try {
        expect((await post("/auth/email/resend", { email }, { target: down })).status).toBe(202);
        const mail = await later.waitForMail(email, /Confirm/);
        const token = tokenFromMail(mail, "/auth/email/verify");
        const cookie = await loginCookie(email);
        expect((await post("/auth/email/verify", { token }, { target: down, cookie })).status).toBe(
          200,
        );
      } finally {
        await later.close();
      }
    } finally {
      await down.close();
    }
  });

  test("an smtps:// SMTP_URL sends over TLS", async () => {
    const tls = await startTestSmtpServer(0, { secure: true });
    const secureApp = await startTestApp(pool, { ...env, SMTP_URL: tls.url });
    try {
      const email = nextEmail("tls");
      expect((await post("/auth/signup", { email, password }, { target: secureApp })).status).toBe(
        201,
      );
      const mail = await tls.waitForMail(email, /Confirm/);
      expect(mail.secure).toBe(true);
      expect(tokenFromMail(mail, "/auth/email/verify")).toHaveLength(43);
      expect(smtp.received.some((m) => m.to.includes(email))).toBe(false);
    } finally {
      await secureApp.close();
      await tls.close();
    }
  });

  test("without SMTP_URL the development outbox keeps the mail; it is absent otherwise", async () => {
    const dev = await startTestApp(pool, { ...env, SMTP_URL: "", DEV_OUTBOX: "true" });
    try {
      const email = nextEmail("outbox");
      expect((await post("/auth/signup", { email, password }, { target: dev })).status).toBe(201);
      let messages: { to: string; subject: string; text: string }[] = [];
      for (let i = 0; i < 100 && messages.length === 0; i++) {
        await Bun.sleep(20);
        messages = (
          (await (await dev.request("/dev/outbox")).json()) as { messages: typeof messages }
        ).messages;
      }
      expect(messages[0]).toMatchObject({ to: email, subject: "Confirm your email address" });
      expect(messages[0]?.text).toContain("http://gatehouse.test/auth/email/verify?token=");
    } finally {
      await dev.close();
    }
    expect((await app.request("/dev/outbox")).status).toBe(404);
    const production = await startTestApp(pool, {
      ...env,
      NODE_ENV: "production",
      SMTP_URL: "",
      DEV_OUTBOX: "true",
      JWT_SIGNING_KEYS: JSON.stringify({
        ...generateKeyPairSync("ed25519").privateKey.export({ format: "jwk" }),
        kid: "production-test",
      }),
    });
    try {
      expect((await production.request("/dev/outbox")).status).toBe(404);
    } finally {
      await production.close();
    }
  });
});

describe("rate limits on mail-sending routes", () => {
  test("signup, forgot and resend answer 429 with Retry-After past their limits", async () => {
    const strict = await startTestApp(pool, {
      ...env,
      RATE_LIMIT_SIGNUP_IP: "2/1h",
      RATE_LIMIT_MAIL_IP: "2/1h",
      RATE_LIMIT_MAIL_ACCOUNT: "100/1h",
    });
    try {
      for (const [path, body] of [
        ["/auth/signup", () => ({ email: nextEmail(), password })],
        ["/auth/password/forgot", () => ({ email: nextEmail() })],
        ["/auth/email/resend", () => ({ email: nextEmail() })],
      ] as const) {
        const ip = nextIp();
        const statuses = [];
        for (let i = 0; i < 3; i++)
          statuses.push((await post(path, body(), { ip, target: strict })).status);
        expect(statuses[2]).toBe(429);
        expect(statuses.slice(0, 2).every((s) => s !== 429)).toBe(true);
      }
    } finally {
      await strict.close();
    }
  });

  test("one address gets a bounded number of mails, whatever the client", async () => {
    const { email } = await verifiedAccount();
    const statuses = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await post("/auth/password/forgot", { email })).status);
    expect(statuses).toEqual([202, 202, 202, 429]);
    const unknown = nextEmail("nobody");
    const unknownStatuses = [];
    for (let i = 0; i < 4; i++)
      unknownStatuses.push((await post("/auth/password/forgot", { email: unknown })).status);
    expect(unknownStatuses).toEqual(statuses);
  });

  test("sign-ups past the per-address limit answer alike for a taken and a new address", async () => {
    // An account made outside sign-up (a provider, an earlier hour): no count yet.
    const taken = nextEmail("taken");
    const { id: userId } = await insertUser(pool, {
      email: taken,
      emailVerified: true,
      passwordHash: testPasswordHash,
    });
    const fresh = nextEmail("fresh");
    const answers = async (email: string) => {
      const statuses = [];
      // Each from another client: only the per-address limit (3/1h) can refuse.
      for (let i = 0; i < 5; i++)
        statuses.push((await post("/auth/signup", { email, password })).status);
      return statuses;
    };
    const takenStatuses = await answers(taken);
    expect(takenStatuses).toEqual([201, 201, 201, 429, 429]);
    expect(await answers(fresh)).toEqual(takenStatuses);
    // The taken address is unchanged; the new one got exactly one account.
    expect(
      await pool.oneFirst(
        sql.unsafe`SELECT count(*)::int FROM users WHERE id = ${userId} AND email_verified`,
      ),
    ).toBe(1);
    expect(
      await pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM users WHERE email = ${fresh}`),
    ).toBe(1);
  });
});

describe("bad input on every route", () => {
  const routes = [
    "/auth/signup",
    "/auth/login",
    "/auth/email/verify",
    "/auth/email/not-me",
    "/auth/email/resend",
    "/auth/password/forgot",
    "/auth/password/reset",
    "/auth/password/change",
  ];
  const odd = [
    "{",
    "[]",
    "null",
    '"text"',
    JSON.stringify({
      email: 42,
      password: true,
      token: [],
      current_password: {},
      new_password: null,
    }),
    JSON.stringify({
      email: "a\u0000b@example.com",
      password: "nul\u0000 inside password",
      token: "\u0000",
    }),
    JSON.stringify({
      email: "\ud800@example.com",
      password: "\ud800\udfff\ud800 x",
      full_name: "\ud800",
    }),
    JSON.stringify({
      email: "' OR 1=1 --@example.com",
      password: "'; DROP TABLE users; --",
      token: "' OR ''='",
    }),
    JSON.stringify({
      email: `${"x".repeat(300)}@example.com`,
      password: "p".repeat(5000),
      token: "t".repeat(5000),
    }),
    JSON.stringify({
      email: "rtl\u202e@example.com",
      password: "\u0301\u0301\u0301\u0301\u0301\u0301\u0301",
      full_name: "\u0007bell",
    }),
    JSON.stringify({ email: "", password: "", token: "", current_password: "", new_password: "" }),
  ];

  test("wrong types, odd Unicode, SQL-looking strings: 4xx problem+json and nothing written", async () => {
    const { email } = await verifiedAccount();
    const cookie = await loginCookie(email);
    const tables = [
      "users",
      "sessions",
      "verification_tokens",
      "audit_events",
      "rate_limit_counters",
    ];
    const before = await Promise.all(tables.map(count));
    for (const path of routes) {
      for (const body of odd) {
        const answer = await post(path, body, { cookie });
        expect(answer.status).toBeGreaterThanOrEqual(400);
        expect(answer.status).toBeLessThan(500);
        expect(answer.headers.get("content-type")).toBe("application/problem+json");
      }
    }
    expect(await Promise.all(tables.map(count))).toEqual(before);
  });

  test("the pages a mail links to take any query without reflecting it", async () => {
    for (const path of ["/auth/email/verify", "/auth/email/not-me", "/auth/password/reset"]) {
      for (const token of [
        '"><script>alert(1)</script>',
        "' OR 1=1 --",
        "\u0000",
        "x".repeat(5000),
        "%ZZ",
      ]) {
        const answer = await app.request(`${path}?token=${encodeURIComponent(token)}`);
        expect(answer.status).toBe(200);
        const html = await answer.text();
        expect(html).not.toContain("<script>");
        expect(html).not.toContain("OR 1=1");
      }
    }
  });

  test("a malformed multipart form is refused (4xx) on every route", async () => {
    for (const path of routes) {
      const answer = await app.request(path, {
        method: "POST",
        headers: { "content-type": "multipart/form-data; boundary=nope" },
        body: "--wrong\r\ngarbage",
      });
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.status).toBeLessThan(500);
    }
  });

  test("huge bodies and other content types are refused", async () => {
    const huge = await post("/auth/signup", { email: nextEmail(), password: "x".repeat(200_000) });
    expect(huge.status).toBe(413);
    const text = await app.request("/auth/login", {
      method: "POST",
      body: "email=a",
      headers: { "content-type": "text/plain" },
    });
    expect(text.status).toBe(415);
  });

  test("a SQL-looking but well-formed address is just an address", async () => {
    const email = `o'brien+${++counter}@example.com`;
    expect((await post("/auth/signup", { email, password })).status).toBe(201);
    await smtp.waitForMail(email);
    expect(await count("users")).toBeGreaterThan(0);
  });
});

test("the session cookie name follows PUBLIC_URL", () => {
  expect(sessionCookieName(app.config)).toBe("gatehouse_session");
});

describe("browser forms (no JavaScript)", () => {
  function submit(path: string, fields: Record<string, string>, cookie?: string) {
    return postForm(app, path, fields, {
      origin: app.config.http.PUBLIC_URL,
      "x-forwarded-for": nextIp(),
      ...(cookie ? { cookie } : {}),
    });
  }

  test("sign up, confirm from the mail link and sign in, all through HTML forms", async () => {
    const email = nextEmail("browser");
    const form = await app.request("/auth/signup");
    expect(form.headers.get("content-type")).toContain("text/html");
    expect(await form.text()).toContain('action="/auth/signup"');
    const signedUp = await submit("/auth/signup", { email, password, full_name: "" });
    expect(signedUp.status).toBe(201);
    expect(await signedUp.text()).toContain("Check your inbox");

    const link = /https?:\/\/\S+\/auth\/email\/verify\?token=[A-Za-z0-9_-]{43}/.exec(
      (await smtp.waitForMail(email)).source,
    )?.[0];
    const token = tokenFromMail(await smtp.waitForMail(email), "/auth/email/verify");
    const page = await app.request(new URL(link ?? "").pathname + new URL(link ?? "").search);
    expect(page.status).toBe(200);
    expect(page.headers.get("cache-control")).toBe("no-store");
    const pageHtml = await page.text();
    // Signed out, the page asks to sign in first (coming back here), and offers "not me".
    const here = `/auth/email/verify?token=${token}`;
    expect(pageHtml).toContain(`name="redirect_to" value="${here}"`);
    expect(pageHtml).toContain('action="/auth/email/not-me"');
    expect(pageHtml).toContain(`name="token" value="${token}"`);

    // A wrong password goes back to the sign-in page (POST-redirect-GET), which
    // says why and keeps the typed address.
    const wrong = await submit("/auth/login", { email, password: "not the password" });
    expect(wrong.status).toBe(303);
    expect(wrong.headers.get("location")).toBe("/?error=invalid_credentials");
    const again = await app.request(wrong.headers.get("location") ?? "", {
      headers: { cookie: cookieHeader(cookiesSet(wrong)) },
    });
    const againHtml = await again.text();
    expect(againHtml).toContain("The email or password is wrong.");
    expect(againHtml).toContain(`value="${email}"`);
    const signedIn = await submit("/auth/login", { email, password, redirect_to: here });
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get("location")).toBe(here);
    const cookie = cookieOf(signedIn);
    expect(cookie).toStartWith("gatehouse_session=");

    const back = await (await app.request(here, { headers: { cookie } })).text();
    expect(back).toContain('action="/auth/email/verify"');
    // Opening the link consumed nothing: a mail scanner's prefetch is harmless.
    const confirmed = await submit("/auth/email/verify", { token }, cookie);
    expect(confirmed.status).toBe(200);
    expect(await confirmed.text()).toContain("Address confirmed");
    expect(
      await pool.oneFirst(sql.unsafe`SELECT email_verified FROM users WHERE email = ${email}`),
    ).toBe(true);
  });

  test("a refused new password shows the reset form again with the link still in it", async () => {
    const { email } = await verifiedAccount();
    await submit("/auth/password/forgot", { email });
    const token = tokenFromMail(await smtp.waitForMail(email, /Reset/), "/auth/password/reset");
    const weak = await submit("/auth/password/reset", { token, password: "12345678" });
    expect(weak.status).toBe(400);
    const html = await weak.text();
    expect(html).toContain("too common");
    expect(html).toContain(`name="token" value="${token}"`);
    const done = await submit("/auth/password/reset", { token, password: "a good new passphrase" });
    expect(done.status).toBe(200);
    expect(await done.text()).toContain("Password changed");
    await loginCookie(email, "a good new passphrase");
  });

  test("a cross-site form post is refused", async () => {
    const answer = await app.request("/auth/password/forgot", {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "sec-fetch-site": "cross-site",
        origin: "https://evil.example",
      },
      body: "email=victim%40example.com",
    });
    expect(answer.status).toBe(403);
  });
});

test("with REQUIRE_CONSENT, sign-up needs consent and records when it was given", async () => {
  const consenting = await startTestApp(pool, { ...env, REQUIRE_CONSENT: "true" });
  try {
    const email = nextEmail("consent");
    const refused = await post("/auth/signup", { email, password }, { target: consenting });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { errors: { pointer: string }[] }).errors[0]?.pointer).toBe(
      "#/consent",
    );
    expect(
      await pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM users WHERE email = ${email}`),
    ).toBe(0);
    const accepted = await post(
      "/auth/signup",
      { email, password, consent: true },
      { target: consenting },
    );
    expect(accepted.status).toBe(201);
    const consentAt = await pool.oneFirst(
      sql.unsafe`SELECT consent_at FROM users WHERE email = ${email}`,
    );
    expect(consentAt).not.toBeNull();
  } finally {
    await consenting.close();
  }
});
