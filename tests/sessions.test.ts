import { afterAll, describe, expect, test } from "bun:test";
import { sql } from "slonik";
import { insertUser } from "../sql/users.ts";
import {
  createSession,
  hashSecret,
  invalidateSession,
  validateSession,
} from "../src/sessions/sessions.ts";
import { createTestDatabase } from "./support/database.ts";

const { pool, drop } = await createTestDatabase();
afterAll(drop);

const argon = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
const failOnTouchError = (error: unknown) => {
  throw error;
};
let n = 0;
async function signIn(overrides: { ttlMs?: number; idleTtlMs?: number } = {}) {
  const user = await insertUser(pool, {
    email: `s${++n}@example.com`,
    emailVerified: true,
    passwordHash: argon,
  });
  const created = await createSession(pool, {
    userId: user.id,
    ttlMs: overrides.ttlMs ?? 3_600_000,
    idleTtlMs: overrides.idleTtlMs ?? 600_000,
    ip: "198.51.100.4",
    userAgent: "curl/8",
  });
  return { user, ...created };
}

describe("sessions", () => {
  test("the cookie secret is 256 random bits and only its SHA-256 is stored", async () => {
    const { secret, session } = await signIn();
    expect(Buffer.from(secret, "base64url")).toHaveLength(32);
    const stored = await pool.oneFirst(
      sql.unsafe`SELECT token_hash FROM sessions WHERE id = ${session.id}`,
    );
    expect(Buffer.compare(stored as Buffer, hashSecret(secret))).toBe(0);
    const raw = await pool.anyFirst(sql.unsafe`SELECT encode(token_hash, 'escape') FROM sessions`);
    expect(raw.join()).not.toContain(secret);
  });

  test("a valid secret yields the session with its user", async () => {
    const { user, secret, session } = await signIn();
    const found = await validateSession(pool, secret, failOnTouchError);
    expect(found).toMatchObject({
      session_id: session.id,
      user_id: user.id,
      email: user.email,
      role: "user",
      is_whitelisted: false,
    });
  });

  test("every sign-in gets a new session id and secret", async () => {
    const a = await signIn();
    const b = await createSession(pool, {
      userId: a.user.id,
      ttlMs: 60_000,
      idleTtlMs: 60_000,
      ip: null,
      userAgent: null,
    });
    expect(b.session.id).not.toBe(a.session.id);
    expect(b.secret).not.toBe(a.secret);
  });

  test("malformed, unknown, revoked, expired and idle secrets yield nothing", async () => {
    expect(await validateSession(pool, "short", failOnTouchError)).toBeNull();
    expect(await validateSession(pool, "A".repeat(43), failOnTouchError)).toBeNull();

    const revoked = await signIn();
    expect(await invalidateSession(pool, revoked.session.id, "logout")).toBe(true);
    expect(await validateSession(pool, revoked.secret, failOnTouchError)).toBeNull();

    const expired = await signIn();
    await pool.query(
      sql.unsafe`UPDATE sessions SET created_at = now() - interval '2 hours', expires_at = now() - interval '1 second' WHERE id = ${expired.session.id}`,
    );
    expect(await validateSession(pool, expired.secret, failOnTouchError)).toBeNull();

    const idle = await signIn({ idleTtlMs: 60_000 });
    await pool.query(
      sql.unsafe`UPDATE sessions SET last_seen_at = now() - interval '61 seconds' WHERE id = ${idle.session.id}`,
    );
    expect(await validateSession(pool, idle.secret, failOnTouchError)).toBeNull();
  });

  test("last_seen_at moves at most once a minute", async () => {
    const { secret, session } = await signIn();
    const lastSeen = () =>
      pool.oneFirst(sql.unsafe`SELECT last_seen_at FROM sessions WHERE id = ${session.id}`);
    const initial = (await lastSeen()) as Date;
    await validateSession(pool, secret, failOnTouchError);
    await Bun.sleep(50);
    expect(await lastSeen()).toEqual(initial);

    await pool.query(
      sql.unsafe`UPDATE sessions SET last_seen_at = now() - interval '5 minutes' WHERE id = ${session.id}`,
    );
    const stale = (await lastSeen()) as Date;
    await validateSession(pool, secret, failOnTouchError);
    await Bun.sleep(50);
    expect(((await lastSeen()) as Date).getTime()).toBeGreaterThan(stale.getTime());
  });
});
