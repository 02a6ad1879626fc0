import { afterAll, describe, expect, test } from "bun:test";
import { sql } from "slonik";
import { insertUser } from "../sql/users.ts";
import { startSessionTouches } from "../src/sessions/session-touches.ts";
import {
  createSession,
  hashSecret,
  invalidateSession,
  sessionLookup,
  validateSession,
} from "../src/sessions/sessions.ts";
import { createTestDatabase, testLogger } from "./support/database.ts";

const { pool, drop } = await createTestDatabase();
// A long interval: these tests flush by hand, when they mean to.
const touches = startSessionTouches(pool, testLogger, { intervalMs: 3_600_000 });
const lookup = sessionLookup(pool);
afterAll(async () => {
  await touches.close();
  await drop();
});

const argon = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
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
    const found = await validateSession(lookup, secret, touches);
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
    expect(await validateSession(lookup, "short", touches)).toBeNull();
    expect(await validateSession(lookup, "A".repeat(43), touches)).toBeNull();

    const revoked = await signIn();
    expect(await invalidateSession(pool, revoked.session.id, "logout")).toBe(true);
    expect(await validateSession(lookup, revoked.secret, touches)).toBeNull();

    const expired = await signIn();
    await pool.query(
      sql.unsafe`UPDATE sessions SET created_at = now() - interval '2 hours', expires_at = now() - interval '1 second' WHERE id = ${expired.session.id}`,
    );
    expect(await validateSession(lookup, expired.secret, touches)).toBeNull();

    const idle = await signIn({ idleTtlMs: 60_000 });
    await pool.query(
      sql.unsafe`UPDATE sessions SET last_seen_at = now() - interval '61 seconds' WHERE id = ${idle.session.id}`,
    );
    expect(await validateSession(lookup, idle.secret, touches)).toBeNull();
  });

  test("last_seen_at moves at most once a minute", async () => {
    const { secret, session } = await signIn();
    const lastSeen = () =>
      pool.oneFirst(sql.unsafe`SELECT last_seen_at FROM sessions WHERE id = ${session.id}`);
    const initial = (await lastSeen()) as Date;
    await validateSession(lookup, secret, touches);
    await touches.flush();
    expect(await lastSeen()).toEqual(initial);

    await pool.query(
      sql.unsafe`UPDATE sessions SET last_seen_at = now() - interval '5 minutes' WHERE id = ${session.id}`,
    );
    const stale = (await lastSeen()) as Date;
    await validateSession(lookup, secret, touches);
    // Off the request path: written by the next flush, not by the check.
    expect(await lastSeen()).toEqual(stale);
    await touches.flush();
    expect(((await lastSeen()) as Date).getTime()).toBeGreaterThan(stale.getTime());
  });

  test("a second's touches of many sessions are written in one statement, never backwards", async () => {
    const sessions = await Promise.all([signIn(), signIn(), signIn()]);
    const ids = sessions.map((s) => s.session.id);
    await pool.query(sql.unsafe`
      UPDATE sessions SET last_seen_at = now() - interval '5 minutes'
      WHERE id = ANY(${sql.array(ids, "uuid")})`);
    for (const { secret } of sessions) await validateSession(lookup, secret, touches);
    await touches.flush();
    const moved = await pool.oneFirst(sql.unsafe`
      SELECT count(*)::int FROM sessions
      WHERE id = ANY(${sql.array(ids, "uuid")}) AND last_seen_at > now() - interval '1 minute'`);
    expect(moved).toBe(3);
    // A late flush carrying an older time leaves a newer last_seen_at alone.
    const first = ids[0] ?? "";
    await pool.query(
      sql.unsafe`UPDATE sessions SET last_seen_at = now() + interval '1 minute' WHERE id = ${first}`,
    );
    const newer = await pool.oneFirst(
      sql.unsafe`SELECT last_seen_at FROM sessions WHERE id = ${first}`,
    );
    const late = startSessionTouches(pool, testLogger, { intervalMs: 3_600_000 });
    late.touch(first);
    await late.close();
    expect(
      await pool.oneFirst(sql.unsafe`SELECT last_seen_at FROM sessions WHERE id = ${first}`),
    ).toEqual(newer);
  });
});
