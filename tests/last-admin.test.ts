import { beforeEach, expect, test } from "bun:test";
import { sql } from "slonik";
import { DomainError } from "../src/errors.ts";
import { changeUser } from "../src/users/administration.ts";
import { appTestSetup } from "./support/app.ts";
import { testLogger } from "./support/database.ts";
import { jsonSender } from "./support/requests.ts";
import { signedInUser } from "./support/sign-in.ts";

// Its own database: these tests count every administrator there is.
const { db, app } = await appTestSetup();

beforeEach(async () => {
  await db.pool.query(sql.unsafe`UPDATE users SET role = 'user' WHERE role = 'admin'`);
});

const admin = () => signedInUser(db.pool, app.config, { role: "admin", isWhitelisted: true });

const send = jsonSender(app);

const usableAdmins = () =>
  db.pool.oneFirst(sql.unsafe`
    SELECT count(*)::int FROM users WHERE role = 'admin' AND status = 'active' AND is_whitelisted`);

test("the last admin cannot demote, deactivate, lock, unapprove or delete themselves", async () => {
  const { user, cookie } = await admin();
  for (const body of [
    { role: "user" },
    { status: "inactive" },
    { status: "locked" },
    { is_whitelisted: false },
  ]) {
    const response = await send("PATCH", `/admin/users/${user.id}`, cookie, body);
    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({ type: "urn:gatehouse:problem:last-admin" });
  }
  expect((await send("DELETE", `/admin/users/${user.id}`, cookie)).status).toBe(409);
  expect((await send("DELETE", `/admin/users/${user.id}?hard=true`, cookie)).status).toBe(409);
  expect((await send("DELETE", "/me", cookie)).status).toBe(409);
  expect(await usableAdmins()).toBe(1);
  const refusals = await db.pool.oneFirst(sql.unsafe`
    SELECT count(*)::int FROM audit_events
    WHERE user_id = ${user.id} AND result = 'failure' AND failure_reason = 'last administrator'`);
  expect(refusals).toBe(7);
});

test("with a second admin, an admin may step down", async () => {
  const first = await admin();
  await admin();
  const response = await send("PATCH", `/admin/users/${first.user.id}`, first.cookie, {
    role: "user",
  });
  expect(response.status).toBe(200);
  expect(await usableAdmins()).toBe(1);
});

/** Two new admins, and no other. */
async function onlyTwoAdmins() {
  await db.pool.query(sql.unsafe`UPDATE users SET role = 'user' WHERE role = 'admin'`);
  return [await admin(), await admin()] as const;
}

test("two concurrent demotions of the last two admins: exactly one succeeds", async () => {
  for (let round = 0; round < 5; round++) {
    const [a, b] = await onlyTwoAdmins();
    // Each demotes the other at the same moment (and, in odd rounds, themselves).
    const [ra, rb] = await Promise.all([
      send("PATCH", `/admin/users/${round % 2 ? a.user.id : b.user.id}`, a.cookie, {
        role: "user",
      }),
      send("PATCH", `/admin/users/${round % 2 ? b.user.id : a.user.id}`, b.cookie, {
        role: "user",
      }),
    ]);
    // The loser is refused either by the last-admin check (409) or, when the
    // winner committed first, because it is no longer an admin at all (403).
    const statuses = [ra.status, rb.status].sort();
    expect(statuses[0]).toBe(200);
    expect([403, 409]).toContain(statuses[1] ?? 0);
    expect(await usableAdmins()).toBe(1);
  }
});

test("demotions racing inside the database: exactly one commits, the other is refused", async () => {
  for (let round = 0; round < 5; round++) {
    const [a, b] = await onlyTwoAdmins();
    const actor = (id: string) => ({ actorId: id, ip: null, userAgent: null });
    // Both callers are past authorisation; only the row locks decide.
    const results = await Promise.allSettled([
      changeUser({ pool: db.pool, logger: testLogger }, actor(a.user.id), b.user.id, {
        role: "user",
      }),
      changeUser({ pool: db.pool, logger: testLogger }, actor(b.user.id), a.user.id, {
        role: "user",
      }),
    ]);
    const refused = results.filter((r) => r.status === "rejected");
    expect(refused).toHaveLength(1);
    const reason = (refused[0] as PromiseRejectedResult).reason;
    expect(reason).toBeInstanceOf(DomainError);
    expect((reason as DomainError).code).toBe("last_admin");
    expect(await usableAdmins()).toBe(1);
  }
});

test("two concurrent deletions of the last two admins: exactly one succeeds", async () => {
  const a = await admin();
  const b = await admin();
  const [ra, rb] = await Promise.all([
    send("DELETE", `/admin/users/${b.user.id}`, a.cookie),
    send("DELETE", `/admin/users/${a.user.id}`, b.cookie),
  ]);
  const statuses = [ra.status, rb.status].sort();
  expect(statuses[0]).toBe(204);
  expect([401, 403, 409]).toContain(statuses[1] ?? 0);
  expect(await usableAdmins()).toBe(1);
});
