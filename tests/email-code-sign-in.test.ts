import { afterAll, describe, expect, test } from "bun:test";
import { sql } from "slonik";
import { insertUser, type User } from "../sql/users.ts";
import { startTestApp } from "./support/app.ts";
import { createTestDatabase } from "./support/database.ts";
import { nextIp, postForm } from "./support/requests.ts";
import { testPasswordHash } from "./support/sign-in.ts";
import { type ReceivedMail, startTestSmtpServer } from "./support/smtp.ts";

// Signing in with a six-digit code mailed to the account's address, through
// real HTTP, a real database and a real SMTP server: the code is read from
// the mail as a person would read it.

const { pool, drop } = await createTestDatabase();
const smtp = await startTestSmtpServer();
const app = await startTestApp(pool, {
  TRUST_PROXY_HOPS: "1",
  SMTP_URL: smtp.url,
  PUBLIC_URL: "http://gatehouse.test",
  // Higher than a code's 5 tries, so the code dies before the account locks.
  LOGIN_MAX_FAILURES: "8",
});
afterAll(async () => {
  await app.close();
  await smtp.close();
  await drop();
});

const sessionCookie = "gatehouse_session";
const failedAttempts = (userId: string) =>
  pool.oneFirst(sql.unsafe`SELECT failed_login_attempts FROM users WHERE id = ${userId}`);
let counter = 0;

async function account(state: Partial<{ verified: boolean; approved: boolean }> = {}) {
  const user = await insertUser(pool, {
    email: `code${++counter}@example.com`,
    emailVerified: state.verified ?? true,
    passwordHash: testPasswordHash,
  });
  if (state.approved) {
    await pool.query(sql.unsafe`UPDATE users SET is_whitelisted = true WHERE id = ${user.id}`);
  }
  return user as User & { email: string };
}

function postJson(path: string, body: unknown, ip = nextIp()): Promise<Response> {
  return app.request(path, {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": ip },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}
const postFormFrom = (path: string, fields: Record<string, string>) =>
  postForm(app, path, fields, { "x-forwarded-for": nextIp() });

const codeOf = (mail: ReceivedMail) => {
  const code = /^([0-9]{6}) is your Gatehouse sign-in code$/.exec(mail.subject)?.[1];
  if (!code) throw new Error(`no code in "${mail.subject}"`);
  expect(mail.source).toContain(`Your sign-in code is ${code}`);
  expect(mail.source).toContain("http://gatehouse.test/auth/email-code/verify");
  expect(mail.source).not.toContain(`code=${code}`);
  return code;
};
const mailsTo = (email: string) => smtp.received.filter((m) => m.to.includes(email));

/** Asks for a code and reads it from the mail that arrives. */
async function mailedCode(email: string): Promise<string> {
  const before = mailsTo(email).length;
  const asked = await postJson("/auth/email-code", { email });
  expect(asked.status).toBe(202);
  const deadline = Date.now() + 5000;
  while (mailsTo(email).length === before && Date.now() < deadline) await Bun.sleep(20);
  const mail = mailsTo(email)[before];
  if (!mail) throw new Error(`no code mailed to ${email}`);
  return codeOf(mail);
}

const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, "0");
const cookieOf = (response: Response) =>
  response.headers
    .getSetCookie()
    .map((h) => h.split(";")[0] ?? "")
    .find((pair) => pair.startsWith(`${sessionCookie}=`)) ?? "";
const liveSessions = (userId: string) =>
  pool.oneFirst(sql.unsafe`
    SELECT count(*)::int FROM sessions WHERE user_id = ${userId} AND revoked_at IS NULL`);
const events = async (userId: string | null) =>
  (await pool.any(sql.unsafe`
    SELECT event_type, result, failure_reason, context FROM audit_events
    WHERE user_id IS NOT DISTINCT FROM ${userId} ORDER BY occurred_at, id`)) as readonly {
    event_type: string;
    result: string;
    failure_reason: string | null;
    context: Record<string, unknown> | null;
  }[];
const failureReasons = async (userId: string | null) =>
  (await events(userId))
    .filter((e) => e.event_type === "login.failed")
    .map((e) => e.failure_reason);

/** Waits for the request's after-the-answer work, which ends by auditing it. */
async function requestAudited(userId: string | null, reason: string | null) {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const found = (await events(userId)).some(
      (e) => e.event_type === "email_code.requested" && e.failure_reason === reason,
    );
    if (found) return;
    await Bun.sleep(20);
  }
  throw new Error(`email_code.requested (${reason}) was not audited`);
}

describe("a mailed code", () => {
  test("signs in once, as a first factor of its own (amr email)", async () => {
    const user = await account({ approved: true });
    const code = await mailedCode(user.email);
    const signedIn = await postJson("/auth/email-code/verify", { email: user.email, code });
    expect(signedIn.status).toBe(200);
    expect(((await signedIn.json()) as { user: { id: string } }).user.id).toBe(user.id);
    const cookie = cookieOf(signedIn);
    const me = await app.request("/me", { headers: { cookie } });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { amr: string[] }).amr).toEqual(["email"]);
    const verified = await app.request("/auth/verify?mode=401", { headers: { cookie } });
    expect(verified.status).toBe(200);
    expect(verified.headers.get("x-auth-mfa")).toBe("false");

    const again = await postJson("/auth/email-code/verify", { email: user.email, code });
    expect(again.status).toBe(401);
    expect(await again.json()).toMatchObject({ code: "email_code_invalid" });
    expect(await liveSessions(user.id)).toBe(1);
    const succeeded = (await events(user.id)).filter((e) => e.event_type === "login.succeeded");
    expect(succeeded).toHaveLength(1);
    expect(succeeded[0]?.context).toMatchObject({ method: "email_code", amr: ["email"] });
    expect(await failureReasons(user.id)).toEqual(["no_code"]);
  });

  test("is stored only as a hash", async () => {
    const user = await account();
    const code = await mailedCode(user.email);
    const hash = String(
      await pool.oneFirst(sql.unsafe`
        SELECT encode(token_hash, 'hex') FROM verification_tokens
        WHERE user_id = ${user.id} AND purpose = 'email_sign_in'`),
    );
    expect(hash).not.toContain(code);
    expect(hash).toHaveLength(64);
    const seconds = await pool.oneFirst(sql.unsafe`
      SELECT extract(epoch FROM expires_at - created_at)::int FROM verification_tokens
      WHERE user_id = ${user.id} AND purpose = 'email_sign_in'`);
    expect(Number(seconds)).toBeGreaterThanOrEqual(599);
    expect(Number(seconds)).toBeLessThanOrEqual(600);
  });

  test("is refused once expired", async () => {
    const user = await account();
    const code = await mailedCode(user.email);
    await pool.query(sql.unsafe`
      UPDATE verification_tokens SET created_at = now() - interval '11 minutes',
        expires_at = now() - interval '1 minute'
      WHERE user_id = ${user.id} AND purpose = 'email_sign_in'`);
    const late = await postJson("/auth/email-code/verify", { email: user.email, code });
    expect(late.status).toBe(401);
    expect(await late.json()).toMatchObject({ code: "email_code_invalid" });
    expect(await liveSessions(user.id)).toBe(0);
    expect(await failureReasons(user.id)).toEqual(["no_code"]);
  });

  test("dies after five wrong tries, even for the right code then", async () => {
    const user = await account();
    const code = await mailedCode(user.email);
    for (let i = 0; i < 5; i++) {
      const guess = await postJson("/auth/email-code/verify", {
        email: user.email,
        code: wrong(code),
      });
      expect(guess.status).toBe(401);
    }
    const right = await postJson("/auth/email-code/verify", { email: user.email, code });
    expect(right.status).toBe(401);
    expect(await liveSessions(user.id)).toBe(0);
    expect(await failureReasons(user.id)).toEqual([...Array(5).fill("bad_code"), "no_code"]);
  });

  test("wrong codes count toward the account's lockout; a right code on a locked account buys nothing", async () => {
    const user = await account();
    const code = await mailedCode(user.email);
    const max = app.config.limits.LOGIN_MAX_FAILURES;
    await pool.query(sql.unsafe`
      UPDATE users SET failed_login_attempts = ${max - 2} WHERE id = ${user.id}`);
    const first = await postJson("/auth/email-code/verify", {
      email: user.email,
      code: wrong(code),
    });
    expect(first.status).toBe(401);
    expect(await failedAttempts(user.id)).toBe(max - 1);
    await postJson("/auth/email-code/verify", { email: user.email, code: wrong(code) });
    const locked = await pool.oneFirst(sql.unsafe`
      SELECT locked_until > now() FROM users WHERE id = ${user.id}`);
    expect(locked).toBe(true);
    expect((await events(user.id)).map((e) => e.event_type)).toContain("account.locked");

    const right = await postJson("/auth/email-code/verify", { email: user.email, code });
    expect(right.status).toBe(423);
    expect(await liveSessions(user.id)).toBe(0);
    expect((await failureReasons(user.id)).at(-1)).toBe("locked");
  });

  test("a success clears the account's failure count, like a password", async () => {
    const user = await account();
    await pool.query(sql.unsafe`UPDATE users SET failed_login_attempts = 3 WHERE id = ${user.id}`);
    const code = await mailedCode(user.email);
    expect((await postJson("/auth/email-code/verify", { email: user.email, code })).status).toBe(
      200,
    );
    expect(await failedAttempts(user.id)).toBe(0);
  });

  test("is replaced by a newer one", async () => {
    const user = await account();
    const older = await mailedCode(user.email);
    const newer = await mailedCode(user.email);
    if (older === newer) return; // one chance in a million: nothing to tell apart
    const stale = await postJson("/auth/email-code/verify", { email: user.email, code: older });
    expect(stale.status).toBe(401);
    const fresh = await postJson("/auth/email-code/verify", { email: user.email, code: newer });
    expect(fresh.status).toBe(200);
  });

  test("two concurrent sign-ins with one code: exactly one gets a session", async () => {
    const user = await account();
    const code = await mailedCode(user.email);
    const answers = await Promise.all(
      [1, 2, 3].map(() => postJson("/auth/email-code/verify", { email: user.email, code })),
    );
    expect(answers.map((r) => r.status).sort()).toEqual([200, 401, 401]);
    expect(await liveSessions(user.id)).toBe(1);
    // The losers found no live code: nothing counted toward the lockout.
    expect(await failedAttempts(user.id)).toBe(0);
  });

  test("counts in the logins metric under its own method", async () => {
    const user = await account();
    const code = await mailedCode(user.email);
    await postJson("/auth/email-code/verify", { email: user.email, code: wrong(code) });
    await postJson("/auth/email-code/verify", { email: user.email, code });
    const metrics = await (await app.request("/metrics")).text();
    expect(metrics).toMatch(/gatehouse_logins_total\{method="email_code",result="success"\} [1-9]/);
    expect(metrics).toMatch(/gatehouse_logins_total\{method="email_code",result="failure"\} [1-9]/);
    expect(metrics).toMatch(/gatehouse_email_codes_sent_total [1-9]/);
  });
});

describe("asking for a code", () => {
  const ask = (email: string) => postJson("/auth/email-code", { email });

  test("an unknown address gets the same 202 and no mail", async () => {
    const known = await account();
    const knownAnswer = await ask(known.email);
    const email = `nobody${++counter}@example.com`;
    const unknownAnswer = await ask(email);
    expect(unknownAnswer.status).toBe(202);
    expect(knownAnswer.status).toBe(202);
    expect(await unknownAnswer.json()).toEqual(await knownAnswer.json());
    await requestAudited(null, "unknown_email");
    await smtp.waitForMail(known.email, /sign-in code/);
    expect(mailsTo(email)).toHaveLength(0);
    const verify = await postJson("/auth/email-code/verify", { email, code: "123456" });
    expect(verify.status).toBe(401);
    expect(await verify.json()).toMatchObject({ code: "email_code_invalid" });
  });

  test("an unverified or inactive account gets the same 202 and no mail", async () => {
    const unverified = await account({ verified: false });
    const inactive = await account();
    await pool.query(sql.unsafe`UPDATE users SET status = 'inactive' WHERE id = ${inactive.id}`);
    for (const [user, reason] of [
      [unverified, "unverified"],
      [inactive, "inactive"],
    ] as const) {
      const answer = await ask(user.email);
      expect(answer.status).toBe(202);
      await requestAudited(user.id, reason);
      expect(mailsTo(user.email)).toHaveLength(0);
      const stored = await pool.oneFirst(sql.unsafe`
        SELECT count(*)::int FROM verification_tokens
        WHERE user_id = ${user.id} AND purpose = 'email_sign_in'`);
      expect(stored).toBe(0);
    }
  });

  test("an account waiting for approval gets a code, and a session that the gate still refuses", async () => {
    const user = await account({ approved: false });
    const code = await mailedCode(user.email);
    const signedIn = await postJson("/auth/email-code/verify", { email: user.email, code });
    expect(signedIn.status).toBe(200);
    const cookie = cookieOf(signedIn);
    expect((await app.request("/me", { headers: { cookie } })).status).toBe(200);
    const gate = await app.request("/auth/verify?mode=401", { headers: { cookie } });
    expect(gate.status).toBe(403);
  });

  test("is limited per address, alike for an account and for none", async () => {
    const user = await account();
    const unknown = `nobody${++counter}@example.com`;
    const { limit } = app.config.limits.RATE_LIMIT_MAIL_ACCOUNT;
    for (const email of [user.email, unknown]) {
      for (let i = 0; i < limit; i++) expect((await ask(email)).status).toBe(202);
      const refused = await ask(email);
      expect(refused.status).toBe(429);
      expect(refused.headers.get("retry-after")).toMatch(/^[0-9]+$/);
    }
  });

  test("is limited per client network", async () => {
    const ip = "203.0.113.77";
    const { limit } = app.config.limits.RATE_LIMIT_MAIL_IP;
    for (let i = 0; i < limit; i++) {
      expect(
        (await postJson("/auth/email-code", { email: `n${++counter}@e.com` }, ip)).status,
      ).toBe(202);
    }
    const refused = await postJson("/auth/email-code", { email: `n${++counter}@e.com` }, ip);
    expect(refused.status).toBe(429);
  });
});

describe("bad input", () => {
  test("is a 4xx problem+json and writes nothing", async () => {
    const user = await account();
    const code = await mailedCode(user.email);
    const before = {
      events: (await events(user.id)).length,
      anonymous: (await events(null)).length,
      failures: await pool.oneFirst(sql.unsafe`
        SELECT failed_login_attempts FROM users WHERE id = ${user.id}`),
    };
    const requests: [string, string, string][] = [
      ["/auth/email-code", "application/json", "{not json"],
      ["/auth/email-code", "application/json", "[]"],
      ["/auth/email-code", "application/json", "{}"],
      ["/auth/email-code", "application/json", JSON.stringify({ email: "not an address" })],
      ["/auth/email-code", "application/json", JSON.stringify({ email: `${"a".repeat(300)}@x.y` })],
      ["/auth/email-code", "application/json", JSON.stringify({ email: "a\u0000b@example.com" })],
      ["/auth/email-code", "application/json", JSON.stringify({ email: 42 })],
      ["/auth/email-code", "text/plain", `email=${user.email}`],
      ["/auth/email-code/verify", "application/json", "{}"],
      ["/auth/email-code/verify", "application/json", JSON.stringify({ email: user.email })],
      ["/auth/email-code/verify", "application/json", JSON.stringify({ code })],
      [
        "/auth/email-code/verify",
        "application/json",
        JSON.stringify({ email: user.email, code: 123456 }),
      ],
      ...[
        "12345",
        "1234567",
        "abcdef",
        "12345\u0000",
        "1".repeat(100),
        "１２３４５６",
        "\ud800",
      ].map((bad): [string, string, string] => [
        "/auth/email-code/verify",
        "application/json",
        JSON.stringify({ email: user.email, code: bad }),
      ]),
      [
        "/auth/email-code/verify",
        "application/json",
        JSON.stringify({ email: "\ud800@example.com", code }),
      ],
    ];
    for (const [path, type, body] of requests) {
      const response = await app.request(path, {
        method: "POST",
        headers: { "content-type": type, "x-forwarded-for": nextIp() },
        body,
      });
      expect(`${path} ${body} ${response.status >= 400 && response.status < 500}`).toBe(
        `${path} ${body} true`,
      );
      expect(response.headers.get("content-type")).toContain("application/problem+json");
      expect(((await response.json()) as { code: string }).code).toBeString();
    }
    expect((await events(user.id)).length).toBe(before.events);
    expect((await events(null)).length).toBe(before.anonymous);
    expect(await failedAttempts(user.id)).toBe(before.failures);
    // The code is untouched: no try counted, still good.
    const tries = await pool.oneFirst(sql.unsafe`
      SELECT failed_attempts FROM verification_tokens
      WHERE user_id = ${user.id} AND purpose = 'email_sign_in'`);
    expect(tries).toBe(0);
    expect(mailsTo(user.email)).toHaveLength(1);
    expect((await postJson("/auth/email-code/verify", { email: user.email, code })).status).toBe(
      200,
    );
  });
});

describe("the pages", () => {
  test("the sign-in page offers a code by mail", async () => {
    const page = await app.request("/?redirect_to=%2Fme");
    const html = await page.text();
    expect(html).toContain('href="/auth/email-code?redirect_to=%2Fme"');
    const form = await app.request("/auth/email-code?redirect_to=%2Fme");
    expect(form.status).toBe(200);
    const formHtml = await form.text();
    expect(formHtml).toContain('action="/auth/email-code"');
    expect(formHtml).toContain('name="redirect_to" value="/me"');
    const codePage = await app.request("/auth/email-code/verify");
    expect(await codePage.text()).toContain('name="code"');
  });

  /** The redirect after asking for a code, followed as a browser does: its cookie goes along. */
  const followAsked = (asked: Response) =>
    app.request(asked.headers.get("location") ?? "", {
      headers: {
        cookie: asked.headers
          .getSetCookie()
          .map((c) => c.split(";")[0])
          .join("; "),
      },
    });

  test("asking for a code by form redirects to the code form, so a refresh does not mail another code", async () => {
    const user = await account();
    const asked = await postFormFrom("/auth/email-code", { email: user.email, redirect_to: "/me" });
    expect(asked.status).toBe(303);
    expect(asked.headers.get("location")).toBe("/auth/email-code/verify?redirect_to=%2Fme&sent=1");
    expect(await (await followAsked(asked)).text()).toContain(
      "If this address has an account that can sign in, a code is on its way.",
    );
    await smtp.waitForMail(user.email, /sign-in code/);
    // The refresh: the same GET again, which mails nothing (the kept address is used up).
    const refreshed = await app.request(asked.headers.get("location") ?? "");
    expect(refreshed.status).toBe(200);
    expect(await refreshed.text()).not.toContain(`value="${user.email}"`);
    await Bun.sleep(300);
    expect(mailsTo(user.email)).toHaveLength(1);
  });

  test("a refused code request shows its page again with the typed address kept", async () => {
    const typed = "not-an-address@";
    const refused = await postFormFrom("/auth/email-code", { email: typed });
    expect(refused.status).toBe(400);
    expect(refused.headers.get("content-type")).toContain("text/html");
    const html = await refused.text();
    expect(html).toContain('action="/auth/email-code"');
    expect(html).toContain(`value="${typed}"`);
    expect(html).toContain('role="alert"');
  });

  test("the forms ask for a code, refuse a wrong one with the page again, and sign in with the right one", async () => {
    const user = await account();
    const asked = await postFormFrom("/auth/email-code", { email: user.email, redirect_to: "/me" });
    const codeForm = await (await followAsked(asked)).text();
    expect(codeForm).toContain('action="/auth/email-code/verify"');
    expect(codeForm).toContain(`value="${user.email}"`);
    expect(codeForm).toContain('name="redirect_to" value="/me"');
    const code = codeOf(await smtp.waitForMail(user.email, /sign-in code/));

    const refused = await postFormFrom("/auth/email-code/verify", {
      email: user.email,
      code: wrong(code),
      redirect_to: "/me",
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("content-type")).toContain("text/html");
    const again = await refused.text();
    expect(again).toContain("That code is wrong, used or expired.");
    expect(again).toContain(`value="${user.email}"`);

    const signedIn = await postFormFrom("/auth/email-code/verify", {
      email: user.email,
      code: code.replace(/^(...)/, "$1 "),
      redirect_to: "/me",
    });
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get("location")).toBe("/me");
    expect((await app.request("/me", { headers: { cookie: cookieOf(signedIn) } })).status).toBe(
      200,
    );
  });
});
