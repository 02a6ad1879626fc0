import { afterAll, describe, expect, test } from "bun:test";
import { sql } from "slonik";
import { consumeRecoveryCode } from "../sql/mfa-recovery-codes.ts";
import { useTotpStep } from "../sql/mfa-totp.ts";
import { insertUser, type User } from "../sql/users.ts";
import { parseConfig } from "../src/config/index.ts";
import { hashRecoveryCode, normaliseRecoveryCode } from "../src/mfa/recovery-codes.ts";
import { rotateEncryptionKeys } from "../src/ops/rotate-keys.ts";
import { hashPassword } from "../src/password/hashing.ts";
import { startTestApp } from "./support/app.ts";
import { testKey } from "./support/cli.ts";
import { createTestDatabase } from "./support/database.ts";
import { signedInUser } from "./support/sign-in.ts";
import { nextCode, stepNow, totpCode } from "./support/totp.ts";

// A user's own second factors through /me/mfa: enrol, confirm, turn off, new
// recovery codes; what is stored; and the races the database settles.

const { pool, drop } = await createTestDatabase();
const env = { TRUST_PROXY_HOPS: "1", TOKEN_ENCRYPTION_KEYS: testKey("k1", 1) };
const app = await startTestApp(pool, env);
afterAll(async () => {
  await app.close();
  await drop();
});

let counter = 0;
const nextIp = () => `203.0.113.${++counter}`;
const json = (cookie: string, body?: unknown, method = "POST"): RequestInit => ({
  method,
  headers: { cookie, "content-type": "application/json", "x-forwarded-for": nextIp() },
  ...(body === undefined ? {} : { body: JSON.stringify(body) }),
});

async function enrol(cookie: string) {
  const started = await app.request("/me/mfa/totp", json(cookie));
  expect(started.status).toBe(200);
  const { secret } = (await started.json()) as { secret: string };
  const confirmed = await app.request(
    "/me/mfa/totp/confirm",
    json(cookie, { code: totpCode(secret, stepNow()) }),
  );
  expect(confirmed.status).toBe(200);
  const { recovery_codes } = (await confirmed.json()) as { recovery_codes: string[] };
  return { secret, recoveryCodes: recovery_codes };
}

const eventTypes = async (userId: string) =>
  (await pool.anyFirst(sql.unsafe`
    SELECT event_type FROM audit_events WHERE user_id = ${userId} ORDER BY occurred_at, id`)) as string[];
const totpRow = (userId: string) =>
  pool.maybeOne(sql.unsafe`
    SELECT secret, confirmed_at, last_used_step FROM mfa_totp WHERE user_id = ${userId}`) as Promise<{
    secret: string;
    confirmed_at: Date | null;
    last_used_step: number | null;
  } | null>;
const unusedCodes = async (userId: string) =>
  pool.oneFirst(sql.unsafe`
    SELECT count(*)::int FROM mfa_recovery_codes WHERE user_id = ${userId} AND used_at IS NULL`);

describe("enrolment", () => {
  test("starting gives a base32 secret, its otpauth URL and a QR code; the secret is stored sealed", async () => {
    const { user, cookie } = await signedInUser(pool, app.config);
    const response = await app.request("/me/mfa/totp", json(cookie));
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const body = (await response.json()) as { secret: string; otpauth_url: string; qr_svg: string };
    expect(body.secret).toMatch(/^[A-Z2-7]{32}$/);
    const url = new URL(body.otpauth_url);
    expect(url.protocol).toBe("otpauth:");
    expect(url.searchParams.get("secret")).toBe(body.secret);
    expect(url.searchParams.get("digits")).toBe("6");
    expect(url.searchParams.get("period")).toBe("30");
    expect(url.searchParams.get("algorithm")).toBe("SHA1");
    expect(decodeURIComponent(url.pathname)).toContain(user.email ?? "");
    expect(body.qr_svg).toStartWith("<svg");
    const row = await totpRow(user.id);
    expect(row?.secret).toMatch(/^v2\.k1\./);
    expect(row?.secret).not.toContain(body.secret);
    expect(row?.confirmed_at).toBeNull();
  });

  test("TOTP is off until a code confirms it; a wrong code is refused; then 10 recovery codes", async () => {
    const { user, cookie } = await signedInUser(pool, app.config);
    const started = await app.request("/me/mfa/totp", json(cookie));
    const { secret } = (await started.json()) as { secret: string };
    const status = async () =>
      (await (await app.request("/me/mfa", { headers: { cookie } })).json()) as {
        totp: { enabled: boolean };
        recovery_codes_left: number;
      };
    expect((await status()).totp.enabled).toBe(false);

    const wrong = String((Number(totpCode(secret, stepNow())) + 1) % 1_000_000).padStart(6, "0");
    const refused = await app.request("/me/mfa/totp/confirm", json(cookie, { code: wrong }));
    expect(refused.status).toBe(422);
    expect(refused.headers.get("content-type")).toContain("application/problem+json");
    expect((await status()).totp.enabled).toBe(false);
    expect(await unusedCodes(user.id)).toBe(0);

    const confirmed = await app.request(
      "/me/mfa/totp/confirm",
      json(cookie, { code: totpCode(secret, stepNow()) }),
    );
    expect(confirmed.status).toBe(200);
    const { recovery_codes } = (await confirmed.json()) as { recovery_codes: string[] };
    expect(recovery_codes).toHaveLength(10);
    expect(new Set(recovery_codes).size).toBe(10);
    for (const code of recovery_codes) expect(code).toMatch(/^[a-z2-7]{4}(-[a-z2-7]{4}){3}$/);
    expect(await status()).toMatchObject({ totp: { enabled: true }, recovery_codes_left: 10 });
    // Only hashes are stored.
    const stored = (await pool.anyFirst(sql.unsafe`
      SELECT encode(code_hash, 'hex') FROM mfa_recovery_codes WHERE user_id = ${user.id}`)) as string[];
    expect(stored.some((h) => recovery_codes.some((c) => h.includes(c.replaceAll("-", ""))))).toBe(
      false,
    );
    expect(await eventTypes(user.id)).toContain("mfa.enrolled");

    // On already: neither a second confirmation nor a new enrolment replaces it.
    const again = await app.request(
      "/me/mfa/totp/confirm",
      json(cookie, { code: totpCode(secret, stepNow() + 1) }),
    );
    expect(again.status).toBe(409);
    const restart = await app.request("/me/mfa/totp", json(cookie));
    expect(restart.status).toBe(409);
    expect((await totpRow(user.id))?.confirmed_at).not.toBeNull();
  });

  test("turning TOTP off needs a current code; a wrong one counts toward the lockout and changes nothing", async () => {
    const { user, cookie } = await signedInUser(pool, app.config);
    const { secret } = await enrol(cookie);
    const without = await app.request("/me/mfa/totp", json(cookie, {}, "DELETE"));
    expect(without.status).toBe(400);
    const wrong = await app.request("/me/mfa/totp", json(cookie, { code: "000000" }, "DELETE"));
    // (000000 could be right once in a million tries: then this test says so.)
    expect(wrong.status).toBe(403);
    expect((await totpRow(user.id))?.confirmed_at).not.toBeNull();
    const failures = await pool.oneFirst(sql.unsafe`
      SELECT failed_login_attempts FROM users WHERE id = ${user.id}`);
    expect(failures).toBe(1);
    expect(await eventTypes(user.id)).toContain("mfa.challenge_failed");

    const code = await nextCode(pool, user.id, secret);
    const removed = await app.request("/me/mfa/totp", json(cookie, { code }, "DELETE"));
    expect(removed.status).toBe(204);
    expect(await totpRow(user.id)).toBeNull();
    expect(await unusedCodes(user.id)).toBe(0);
    expect(await eventTypes(user.id)).toContain("mfa.removed");
  });

  test("a new set of recovery codes kills the old set", async () => {
    const { user, cookie } = await signedInUser(pool, app.config);
    const { recoveryCodes } = await enrol(cookie);
    const [first = "", second = ""] = recoveryCodes;
    const renewed = await app.request(
      "/me/mfa/recovery-codes",
      json(cookie, { recovery_code: first }),
    );
    expect(renewed.status).toBe(200);
    const fresh = ((await renewed.json()) as { recovery_codes: string[] }).recovery_codes;
    expect(fresh).toHaveLength(10);
    expect(fresh.filter((c) => recoveryCodes.includes(c))).toEqual([]);
    expect(await unusedCodes(user.id)).toBe(10);
    // An old code no longer proves anything.
    const old = await app.request(
      "/me/mfa/recovery-codes",
      json(cookie, { recovery_code: second }),
    );
    expect(old.status).toBe(403);
    expect(await unusedCodes(user.id)).toBe(10);
  });

  test("deleting the account takes its second factors with it", async () => {
    const { user, cookie } = await signedInUser(pool, app.config, { isWhitelisted: true });
    await enrol(cookie);
    const deleted = await app.request("/me", {
      method: "DELETE",
      headers: { cookie, "sec-fetch-site": "same-origin" },
    });
    expect(deleted.status).toBe(204);
    expect(await totpRow(user.id)).toBeNull();
    const codes = await pool.oneFirst(sql.unsafe`
      SELECT count(*)::int FROM mfa_recovery_codes WHERE user_id = ${user.id}`);
    expect(codes).toBe(0);
  });

  test("every /me/mfa route needs a session", async () => {
    for (const [path, method] of [
      ["/me/mfa", "GET"],
      ["/me/mfa/totp", "POST"],
      ["/me/mfa/totp/confirm", "POST"],
      ["/me/mfa/totp", "DELETE"],
      ["/me/mfa/recovery-codes", "POST"],
    ] as const) {
      const response = await app.request(path, {
        method,
        headers: { "content-type": "application/json" },
        ...(method === "GET" ? {} : { body: JSON.stringify({ code: "123456" }) }),
      });
      expect(`${method} ${path} ${response.status}`).toBe(`${method} ${path} 401`);
    }
  });

  test("bad input on every /me/mfa route is a 4xx problem and writes nothing", async () => {
    const { user, cookie } = await signedInUser(pool, app.config);
    await enrol(cookie);
    const before = {
      totp: await totpRow(user.id),
      codes: await unusedCodes(user.id),
      events: (await eventTypes(user.id)).length,
      failures: await pool.oneFirst(sql.unsafe`
        SELECT failed_login_attempts FROM users WHERE id = ${user.id}`),
    };
    const bodies: [string, string][] = [
      ["application/json", "{not json"],
      ["application/json", "[]"],
      ["application/json", JSON.stringify({ code: 123456 })],
      ["application/json", JSON.stringify({ code: "1".repeat(100) })],
      ["application/json", JSON.stringify({ recovery_code: "x".repeat(100) })],
      ["application/json", JSON.stringify({ code: "12\u00003456" })],
      ["application/json", JSON.stringify({ code: "\ud800" })],
      ["application/json", JSON.stringify({ code: "123456", recovery_code: "abcd" })],
      ["application/json", JSON.stringify({ code: "", recovery_code: " " })],
      ["text/plain", "code=123456"],
    ];
    for (const [path, method] of [
      ["/me/mfa/totp/confirm", "POST"],
      ["/me/mfa/totp", "DELETE"],
      ["/me/mfa/recovery-codes", "POST"],
    ] as const) {
      for (const [type, body] of bodies) {
        const response = await app.request(path, {
          method,
          headers: { cookie, "content-type": type, "x-forwarded-for": nextIp() },
          body,
        });
        const label = `${method} ${path} ${body.slice(0, 30)}`;
        expect(`${label} ${response.status >= 400 && response.status < 500}`).toBe(`${label} true`);
        expect(response.headers.get("content-type")).toContain("application/problem+json");
      }
    }
    expect(await totpRow(user.id)).toEqual(before.totp);
    expect(await unusedCodes(user.id)).toBe(before.codes);
    expect((await eventTypes(user.id)).length).toBe(before.events);
    expect(
      await pool.oneFirst(
        sql.unsafe`SELECT failed_login_attempts FROM users WHERE id = ${user.id}`,
      ),
    ).toBe(before.failures);
  });
});

describe("what the database settles", () => {
  const password = "correct horse battery staple";
  const passwordUser = async (): Promise<User> =>
    insertUser(pool, {
      email: `race${++counter}@example.com`,
      emailVerified: true,
      passwordHash: await hashPassword(password, app.config.passwords),
    });

  test("two concurrent uses of one recovery code: exactly one wins", async () => {
    const user = await passwordUser();
    const code = normaliseRecoveryCode("abcd-efgh-ijkl-mnop") ?? "";
    await pool.query(sql.unsafe`
      INSERT INTO mfa_recovery_codes (user_id, code_hash)
      VALUES (${user.id}, ${sql.binary(hashRecoveryCode(user.id, code))})`);
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        pool.transaction((tx) => consumeRecoveryCode(tx, user.id, hashRecoveryCode(user.id, code))),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  test("two concurrent uses of one TOTP step: exactly one wins, and an older step fails after it", async () => {
    const { user, cookie } = await signedInUser(pool, app.config);
    await enrol(cookie);
    await pool.query(
      sql.unsafe`UPDATE mfa_totp SET last_used_step = NULL WHERE user_id = ${user.id}`,
    );
    const step = stepNow() + 1;
    const results = await Promise.all(
      Array.from({ length: 8 }, () => pool.transaction((tx) => useTotpStep(tx, user.id, step))),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await useTotpStep(pool, user.id, step - 1)).toBe(false);
  });

  test("rotate-keys re-encrypts TOTP secrets, and codes still work under the new key alone", async () => {
    const { user, cookie } = await signedInUser(pool, app.config, {
      passwordHash: await hashPassword(password, app.config.passwords),
    });
    const { secret } = await enrol(cookie);
    const keys = (value: string) =>
      parseConfig({ TOKEN_ENCRYPTION_KEYS: value }).providers.TOKEN_ENCRYPTION_KEYS;
    const report = await rotateEncryptionKeys({
      pool,
      keys: keys(`${testKey("k2", 2)},${testKey("k1", 1)}`),
    });
    expect(report.rows_rotated).toBeGreaterThanOrEqual(1);
    expect(report.after).not.toHaveProperty("k1");
    expect((await totpRow(user.id))?.secret).toMatch(/^v2\.k2\./);

    const rotated = await startTestApp(pool, { ...env, TOKEN_ENCRYPTION_KEYS: testKey("k2", 2) });
    try {
      const login = await rotated.request("/auth/login", {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": nextIp() },
        body: JSON.stringify({ email: user.email, password }),
      });
      expect(await login.json()).toMatchObject({ mfa_required: true });
      const pending = login.headers
        .getSetCookie()
        .map((c) => c.split(";")[0])
        .join("; ");
      const finished = await rotated.request("/auth/mfa", {
        method: "POST",
        headers: {
          cookie: pending,
          "content-type": "application/json",
          "x-forwarded-for": nextIp(),
        },
        body: JSON.stringify({ code: await nextCode(pool, user.id, secret) }),
      });
      expect(finished.status).toBe(200);
    } finally {
      await rotated.close();
    }
  });
});
