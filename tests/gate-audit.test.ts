import { expect, test } from "bun:test";
import { sql } from "slonik";
import { z } from "zod";
import { appTestSetup, startTestApp } from "./support/app.ts";
import { signedInUser } from "./support/sign-in.ts";

const { db, app } = await appTestSetup();

const deniedEvents = (userId: string) =>
  db.pool.any(sql.type(z.object({ failure_reason: z.string().nullable(), path: z.string() }))`
    SELECT failure_reason, context->>'path' AS path FROM audit_events
    WHERE user_id = ${userId} AND event_type = 'gate.denied' ORDER BY occurred_at`);

/** The audit write is not awaited by the refusal: give it a moment. */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 50; i++) {
    const value = await read();
    if (done(value)) return value;
    await Bun.sleep(20);
  }
  return read();
}

test("a pending user refused by the gate is audited once a minute per reason, not per request", async () => {
  const pending = await signedInUser(db.pool, app.config);
  const headers = { cookie: pending.cookie };
  for (let i = 0; i < 5; i++) {
    expect((await app.request("/auth/verify", { headers })).status).toBe(403);
  }
  expect((await app.request("/me/accounts", { headers })).status).toBe(403);
  const events = await eventually(
    () => deniedEvents(pending.user.id),
    (rows) => rows.length >= 1,
  );
  await Bun.sleep(100);
  expect(await deniedEvents(pending.user.id)).toEqual(events);
  expect(events).toEqual([{ failure_reason: "pending_approval", path: "/auth/verify" }]);
});

test("a member asking for an admin route is audited as not_admin", async () => {
  const member = await signedInUser(db.pool, app.config, { isWhitelisted: true });
  const response = await app.request("/admin/users", { headers: { cookie: member.cookie } });
  expect(response.status).toBe(403);
  const events = await eventually(
    () => deniedEvents(member.user.id),
    (rows) => rows.length >= 1,
  );
  expect(events).toEqual([{ failure_reason: "not_admin", path: "/admin/users" }]);
});

test("a gate.denied row written by forward-auth records the client's address the proxy forwarded", async () => {
  // Forward-auth is called by the reverse proxy: the client is the address it appended.
  const behindProxy = await startTestApp(db.pool, { TRUST_PROXY_HOPS: "1" });
  try {
    const pending = await signedInUser(db.pool, behindProxy.config);
    const refused = await behindProxy.request("/auth/verify", {
      headers: { cookie: pending.cookie, "x-forwarded-for": "203.0.113.77" },
    });
    expect(refused.status).toBe(403);
    const ips = await eventually(
      () =>
        db.pool.anyFirst(sql.type(z.object({ ip: z.string().nullable() }))`
          SELECT host(ip) AS ip FROM audit_events
          WHERE user_id = ${pending.user.id} AND event_type = 'gate.denied'`),
      (rows) => rows.length >= 1,
    );
    expect(ips).toEqual(["203.0.113.77"]);
  } finally {
    await behindProxy.close();
  }
});
