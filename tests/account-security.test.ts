import { describe, expect, test } from "bun:test";
import { sql } from "slonik";
import type { User } from "../sql/users.ts";
import { hashPassword } from "../src/password/hashing.ts";
import { appTestSetup } from "./support/app.ts";
import { crossSitePoster, formPoster } from "./support/requests.ts";
import { knownPassword, signedInUser } from "./support/sign-in.ts";
import { nextCode, stepNow, totpCode } from "./support/totp.ts";

// The account security page: a signed-in person manages their authenticator
// app and recovery codes with plain forms (no script), steps up when the
// session is too old for a change, and sees every refusal on the page.

const { db, app } = await appTestSetup({
  // Every request comes from 127.0.0.1: the per-address sign-in limit is not under test here.
  RATE_LIMIT_LOGIN_IP: "1000/5m",
});
const { pool } = db;

const post = formPoster(app);
const page = async (cookie: string, path = "/account/security") => {
  const response = await app.request(path, { headers: { cookie }, redirect: "manual" });
  expect(response.status).toBe(200);
  return response.text();
};

async function member(): Promise<{ user: User; cookie: string }> {
  const passwordHash = await hashPassword(knownPassword, app.config.passwords);
  return signedInUser(pool, app.config, { isWhitelisted: true, passwordHash });
}

/** Makes the user's sessions' last proof of identity an hour old (REAUTH_MAX_AGE is 10 min). */
const age = (userId: string) =>
  pool.query(sql.unsafe`
    UPDATE sessions SET authenticated_at = now() - interval '1 hour' WHERE user_id = ${userId}`);

const keyOf = (html: string) => html.match(/Key: <code>([A-Z2-7]+)<\/code>/)?.[1] ?? "";
const codesOf = (html: string) =>
  [...html.matchAll(/<li><code>([a-z2-7-]+)<\/code><\/li>/g)].map((m) => m[1] as string);
const totpRow = (userId: string) =>
  pool.maybeOne(sql.unsafe`
    SELECT confirmed_at FROM mfa_totp WHERE user_id = ${userId}`) as Promise<{
    confirmed_at: Date | null;
  } | null>;
const recoveryHashes = async (userId: string) =>
  (
    await pool.anyFirst(sql.unsafe`
      SELECT encode(code_hash, 'hex') FROM mfa_recovery_codes
      WHERE user_id = ${userId} AND used_at IS NULL ORDER BY 1`)
  ).join();

/** The whole set-up through the forms; the key and the first recovery codes. */
async function enrol(cookie: string) {
  const started = await post("/account/security/totp", cookie, {});
  expect(started.status).toBe(200);
  const secret = keyOf(await started.text());
  const confirmed = await post("/account/security/totp/confirm", cookie, {
    code: totpCode(secret, stepNow()),
  });
  expect(confirmed.status).toBe(200);
  return { secret, recoveryCodes: codesOf(await confirmed.text()) };
}

describe("the page", () => {
  test("without a session it sends the browser to sign in and come back", async () => {
    const response = await app.request("/account/security", { redirect: "manual" });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/?redirect_to=%2Faccount%2Fsecurity");
  });

  test("it shows the second factors with an h1 and labelled inputs, and the home and passkeys pages link to it", async () => {
    const { cookie } = await member();
    const html = await page(cookie);
    expect(html).toContain("<h1>Account security</h1>");
    expect(html).toContain("<strong>Off.</strong>");
    expect(html).toContain('action="/account/security/totp"');
    expect(html).toContain("No passkey yet.");
    expect(html).toContain('href="/account/passkeys"');
    for (const [, id] of html.matchAll(/<input[^>]* id="([^"]+)"/g)) {
      expect(html).toContain(`for="${id}"`);
    }
    expect(await page(cookie, "/account")).toContain('href="/account/security"');
    expect(await page(cookie, "/account/passkeys")).toContain('href="/account/security"');
  });

  test("an unknown notice shows nothing of the query", async () => {
    const { cookie } = await member();
    const html = await page(cookie, "/account/security?notice=constructor");
    expect(html).not.toContain('class="notice"');
  });
});

describe("the authenticator app through the forms", () => {
  test("setting up shows the key as a QR code and as text; its first code turns it on and shows 10 recovery codes once", async () => {
    const { user, cookie } = await member();
    const started = await post("/account/security/totp", cookie, {});
    expect(started.status).toBe(200);
    expect(started.headers.get("cache-control")).toBe("no-store");
    const html = await started.text();
    expect(html).toContain("<svg");
    const secret = keyOf(html);
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(html).toContain('action="/account/security/totp/confirm"');
    expect((await totpRow(user.id))?.confirmed_at).toBeNull();
    // Until confirmed, the page asks for the code (never shows the key again).
    const pending = await page(cookie);
    expect(pending).toContain("Not finished.");
    expect(pending).not.toContain(secret);

    const confirmed = await post("/account/security/totp/confirm", cookie, {
      code: totpCode(secret, stepNow()),
    });
    expect(confirmed.status).toBe(200);
    expect(confirmed.headers.get("cache-control")).toBe("no-store");
    const codes = codesOf(await confirmed.text());
    expect(codes).toHaveLength(10);
    expect((await totpRow(user.id))?.confirmed_at).toBeInstanceOf(Date);
    const after = await page(cookie);
    expect(after).toContain("<strong>On.</strong> 10 of 10 recovery codes left.");
    for (const code of codes) expect(after).not.toContain(code);
  });

  test("new recovery codes with a current code: the old set dies", async () => {
    const { user, cookie } = await member();
    const { secret, recoveryCodes } = await enrol(cookie);
    const before = await recoveryHashes(user.id);
    const renewed = await post("/account/security/recovery-codes", cookie, {
      code: await nextCode(pool, user.id, secret),
      recovery_code: "",
    });
    expect(renewed.status).toBe(200);
    const codes = codesOf(await renewed.text());
    expect(codes).toHaveLength(10);
    expect(codes.some((c) => recoveryCodes.includes(c))).toBe(false);
    expect(await recoveryHashes(user.id)).not.toBe(before);
  });

  test("turning it off with a recovery code removes it and its codes, and the page says so", async () => {
    const { user, cookie } = await member();
    const { recoveryCodes } = await enrol(cookie);
    const off = await post("/account/security/totp/off", cookie, {
      code: "",
      recovery_code: recoveryCodes[0] ?? "",
    });
    expect(off.status).toBe(303);
    expect(off.headers.get("location")).toBe("/account/security?notice=totp_off");
    expect(await totpRow(user.id)).toBeNull();
    expect(await recoveryHashes(user.id)).toBe("");
    const html = await page(cookie, "/account/security?notice=totp_off");
    expect(html).toContain("Your authenticator app is off");
    expect(html).toContain("<strong>Off.</strong>");
  });

  test("a wrong code is shown as an error on the page and changes nothing", async () => {
    const { user, cookie } = await member();
    const started = await post("/account/security/totp", cookie, {});
    const secret = keyOf(await started.text());
    const badConfirm = await post("/account/security/totp/confirm", cookie, { code: "000000" });
    expect(badConfirm.status).toBe(422);
    const confirmPage = await badConfirm.text();
    expect(confirmPage).toContain('role="alert"');
    expect(confirmPage).toContain("Enter the six digits the app shows now.");
    expect(confirmPage).toContain('action="/account/security/totp/confirm"');
    expect((await totpRow(user.id))?.confirmed_at).toBeNull();

    await post("/account/security/totp/confirm", cookie, { code: totpCode(secret, stepNow()) });
    const before = await recoveryHashes(user.id);
    for (const path of ["/account/security/recovery-codes", "/account/security/totp/off"]) {
      const wrong = await post(path, cookie, { code: "000000", recovery_code: "" });
      expect(wrong.status).toBe(403);
      const html = await wrong.text();
      expect(html).toContain('role="alert"');
      expect(html).toContain("<h1>Account security</h1>");
      expect(html).toContain("<strong>On.</strong>");
    }
    const neither = await post("/account/security/totp/off", cookie, {
      code: "",
      recovery_code: "",
    });
    expect(neither.status).toBe(400);
    expect(await neither.text()).toContain("Enter the code from your authenticator app");
    expect((await totpRow(user.id))?.confirmed_at).toBeInstanceOf(Date);
    expect(await recoveryHashes(user.id)).toBe(before);
  });

  test("a form posted from another site is refused and changes nothing", async () => {
    const { user, cookie } = await member();
    const response = await crossSitePoster(app)("/account/security/totp", cookie);
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ code: "csrf_failed" });
    expect(await totpRow(user.id)).toBeNull();
  });
});

describe("a session older than REAUTH_MAX_AGE", () => {
  test("gets the step-up form (password) instead of the changes, and after it the change passes", async () => {
    const { user, cookie } = await member();
    await age(user.id);
    const html = await page(cookie);
    expect(html).toContain('action="/auth/reauth"');
    expect(html).toContain('name="password"');
    expect(html).not.toContain('action="/account/security/totp"');

    const refused = await post("/account/security/totp", cookie, {});
    expect(refused.status).toBe(401);
    const refusedPage = await refused.text();
    expect(refusedPage).toContain("This change needs a recent sign-in");
    expect(refusedPage).toContain('action="/auth/reauth"');
    expect(await totpRow(user.id)).toBeNull();

    const back = "/account/security?notice=reauthenticated";
    const wrong = await post("/auth/reauth", cookie, { redirect_to: back, password: "not it" });
    expect(wrong.status).toBe(401);
    const wrongPage = await wrong.text();
    expect(wrongPage).toContain("<h1>Confirm it is you</h1>");
    expect(wrongPage).toContain("Wrong password.");
    expect(wrongPage).toContain(`name="redirect_to" value="${back}"`);
    expect(wrongPage).toContain('<a href="/account/security">Back</a>');

    const stepped = await post("/auth/reauth", cookie, {
      redirect_to: back,
      password: knownPassword,
    });
    expect(stepped.status).toBe(303);
    expect(stepped.headers.get("location")).toBe(back);
    expect(await page(cookie, back)).toContain("Confirmed: you can change your sign-in methods");
    const started = await post("/account/security/totp", cookie, {});
    expect(started.status).toBe(200);
    expect(keyOf(await started.text())).toMatch(/^[A-Z2-7]{32}$/);
  });

  test("with an authenticator on, steps up with a code and can then turn it off", async () => {
    const { user, cookie } = await member();
    const { secret } = await enrol(cookie);
    await age(user.id);
    const html = await page(cookie);
    expect(html).toContain('id="reauth-code"');
    expect(html).not.toContain('name="password"');
    const refused = await post("/account/security/totp/off", cookie, {
      code: await nextCode(pool, user.id, secret),
      recovery_code: "",
    });
    expect(refused.status).toBe(401);
    expect((await totpRow(user.id))?.confirmed_at).toBeInstanceOf(Date);

    const stepped = await post("/auth/reauth", cookie, {
      redirect_to: "/account/security",
      code: await nextCode(pool, user.id, secret),
      recovery_code: "",
    });
    expect(stepped.status).toBe(303);
    expect(stepped.headers.get("location")).toBe("/account/security");
    const off = await post("/account/security/totp/off", cookie, {
      code: await nextCode(pool, user.id, secret),
      recovery_code: "",
    });
    expect(off.status).toBe(303);
    expect(await totpRow(user.id)).toBeNull();
  });

  test("the passkeys page offers the same step-up, coming back to it", async () => {
    const { user, cookie } = await member();
    expect(await page(cookie, "/account/passkeys")).not.toContain('action="/auth/reauth"');
    await age(user.id);
    const html = await page(cookie, "/account/passkeys");
    expect(html).toContain('action="/auth/reauth"');
    expect(html).toContain('name="redirect_to" value="/account/passkeys"');
    const stepped = await post("/auth/reauth", cookie, {
      redirect_to: "/account/passkeys",
      password: knownPassword,
    });
    expect(stepped.headers.get("location")).toBe("/account/passkeys");
    expect(await page(cookie, "/account/passkeys")).not.toContain('action="/auth/reauth"');
  });

  test("a step-up form cannot send the browser off-site afterwards", async () => {
    const { user, cookie } = await member();
    await age(user.id);
    const stepped = await post("/auth/reauth", cookie, {
      redirect_to: "https://evil.example/",
      password: knownPassword,
    });
    expect(stepped.status).toBe(303);
    expect(stepped.headers.get("location")).toBe("/");
  });
});
