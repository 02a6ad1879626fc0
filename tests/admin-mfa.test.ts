import { describe, expect, test } from "bun:test";
import { sql } from "slonik";
import { insertUser, type User } from "../sql/users.ts";
import { startMailingApp } from "./support/mailing-app.ts";
import { formPoster, jsonSender } from "./support/requests.ts";
import { plantPasskey, signedInUser, testPasswordHash } from "./support/sign-in.ts";
import { stepNow, totpCode } from "./support/totp.ts";

// What administrators see of users' second factors, and the reset for a
// user who lost theirs: audited `mfa.removed` with `by_admin`, and the user
// told by mail (a real SMTP server here).

const { pool, smtp, app } = await startMailingApp();

const send = jsonSender(app);
const postForm = formPoster(app);
const admin = () => signedInUser(pool, app.config, { role: "admin", isWhitelisted: true });
let counter = 0;

/** A user with TOTP on (enrolled through /me/mfa) and a session. */
async function userWithTotp() {
  const signedIn = await signedInUser(pool, app.config, {
    email: `factors${++counter}@example.com`,
    isWhitelisted: true,
  });
  const started = await send("POST", "/me/mfa/totp", signedIn.cookie);
  const { secret } = (await started.json()) as { secret: string };
  const confirmed = await send("POST", "/me/mfa/totp/confirm", signedIn.cookie, {
    code: totpCode(secret, stepNow()),
  });
  expect(confirmed.status).toBe(200);
  return signedIn;
}

async function plainUser(): Promise<User> {
  return insertUser(pool, {
    email: `plain${++counter}@example.com`,
    emailVerified: true,
    isWhitelisted: true,
    passwordHash: testPasswordHash,
  });
}

const factorRows = async (userId: string) => ({
  totp: await pool.oneFirst(sql.unsafe`
    SELECT count(*)::int FROM mfa_totp WHERE user_id = ${userId}`),
  codes: await pool.oneFirst(sql.unsafe`
    SELECT count(*)::int FROM mfa_recovery_codes WHERE user_id = ${userId}`),
});
const auditOf = (userId: string, eventType: string) =>
  pool.any(sql.unsafe`
    SELECT actor_id, context FROM audit_events
    WHERE user_id = ${userId} AND event_type = ${eventType} ORDER BY occurred_at`) as Promise<
    readonly { actor_id: string | null; context: Record<string, unknown> }[]
  >;

type Listed = {
  id: string;
  second_factors: { totp: boolean; recovery_codes_left: number; passkeys: number };
};

describe("what administrators see", () => {
  test("the user list and a user's record show each user's second factors", async () => {
    const { cookie } = await admin();
    const enrolled = await userWithTotp();
    const plain = await plainUser();
    const list = await send("GET", "/admin/users?limit=200", cookie);
    const { users } = (await list.json()) as { users: Listed[] };
    expect(users.find((u) => u.id === enrolled.user.id)?.second_factors).toEqual({
      totp: true,
      recovery_codes_left: 10,
      passkeys: 0,
    });
    expect(users.find((u) => u.id === plain.id)?.second_factors).toEqual({
      totp: false,
      recovery_codes_left: 0,
      passkeys: 0,
    });
    const detail = await send("GET", `/admin/users/${enrolled.user.id}`, cookie);
    expect(await detail.json()).toMatchObject({
      second_factors: { totp: true, recovery_codes_left: 10 },
    });
    const page = await app.request(`/admin/view/users/${enrolled.user.id}`, {
      headers: { cookie },
    });
    const html = await page.text();
    expect(html).toContain("authenticator app, 10 recovery codes left");
    expect(html).toContain(`/admin/view/users/${enrolled.user.id}/confirm/reset_mfa`);
  });

  test("?mfa=none lists only users without a second factor, ?mfa=enrolled only those with one", async () => {
    const { cookie } = await admin();
    const enrolled = await userWithTotp();
    const plain = await plainUser();
    const idsOf = async (filter: string) =>
      (
        (await (await send("GET", `/admin/users?limit=200&mfa=${filter}`, cookie)).json()) as {
          users: Listed[];
        }
      ).users.map((u) => u.id);
    const none = await idsOf("none");
    expect(none).toContain(plain.id);
    expect(none).not.toContain(enrolled.user.id);
    const withOne = await idsOf("enrolled");
    expect(withOne).toContain(enrolled.user.id);
    expect(withOne).not.toContain(plain.id);
    const page = await app.request("/admin/view/users?mfa=none", { headers: { cookie } });
    expect(await page.text()).not.toContain(enrolled.user.email ?? "<none>");
  });

  test("a bad mfa filter is a 400 problem", async () => {
    const { cookie } = await admin();
    const response = await send("GET", "/admin/users?mfa=maybe", cookie);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: "validation_failed" });
  });
});

describe("POST /admin/users/:id/mfa/reset", () => {
  test("removes the authenticator and recovery codes, audits mfa.removed by_admin and mails the user", async () => {
    const actor = await admin();
    const target = await userWithTotp();
    const reset = await send("POST", `/admin/users/${target.user.id}/mfa/reset`, actor.cookie);
    expect(reset.status).toBe(200);
    expect(await reset.json()).toEqual({
      totp_removed: true,
      recovery_codes_removed: 10,
      passkeys_removed: 0,
    });
    expect(await factorRows(target.user.id)).toEqual({ totp: 0, codes: 0 });
    const [event] = await auditOf(target.user.id, "mfa.removed");
    expect(event?.actor_id).toBe(actor.user.id);
    expect(event?.context).toMatchObject({ by_admin: true, method: "all" });
    const mail = await smtp.waitForMail(target.user.email ?? "", /second factor was reset/);
    expect(mail.source).toContain(app.config.http.PUBLIC_URL);
    const status = await send("GET", "/me/mfa", target.cookie);
    expect(await status.json()).toMatchObject({ totp: { enabled: false }, recovery_codes_left: 0 });
  });

  test("the admin page's button does the same", async () => {
    const actor = await admin();
    const target = await userWithTotp();
    const back = `/admin/view/users/${target.user.id}`;
    const response = await postForm(`/admin/forms/users/${target.user.id}`, actor.cookie, {
      action: "reset_mfa",
      back,
      confirmed: "yes",
    });
    expect(response.headers.get("location")).toBe(`${back}?notice=reset_mfa`);
    expect(await factorRows(target.user.id)).toEqual({ totp: 0, codes: 0 });
    expect(await auditOf(target.user.id, "mfa.removed")).toHaveLength(1);
  });

  test("a user without second factors: nothing removed, nothing audited, no mail", async () => {
    const { cookie } = await admin();
    const plain = await plainUser();
    const reset = await send("POST", `/admin/users/${plain.id}/mfa/reset`, cookie);
    expect(reset.status).toBe(200);
    expect(await reset.json()).toEqual({
      totp_removed: false,
      recovery_codes_removed: 0,
      passkeys_removed: 0,
    });
    expect(await auditOf(plain.id, "mfa.removed")).toHaveLength(0);
    await Bun.sleep(200);
    expect(smtp.received.some((m) => m.to.includes(plain.email ?? ""))).toBe(false);
  });

  test("an unknown or malformed id is a 404 problem, a non-admin a 403, and nothing is removed", async () => {
    const { cookie } = await admin();
    const target = await userWithTotp();
    for (const id of [crypto.randomUUID(), "not-a-uuid"]) {
      const response = await send("POST", `/admin/users/${id}/mfa/reset`, cookie);
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ code: "user_not_found" });
    }
    const member = await signedInUser(pool, app.config, { isWhitelisted: true });
    const refused = await send("POST", `/admin/users/${target.user.id}/mfa/reset`, member.cookie);
    expect(refused.status).toBe(403);
    expect(await factorRows(target.user.id)).toEqual({ totp: 1, codes: 10 });
  });
});

describe("passkeys are second factors for administrators too", () => {
  test("a user with only a passkey is listed as enrolled, and a reset removes the passkey", async () => {
    const actor = await admin();
    const holder = await plainUser();
    await plantPasskey(pool, holder.id);
    const listed = async (mfa: string) => {
      const page = await send("GET", `/admin/users?limit=200&mfa=${mfa}`, actor.cookie);
      return ((await page.json()) as { users: Listed[] }).users.find((u) => u.id === holder.id);
    };
    expect((await listed("enrolled"))?.second_factors).toEqual({
      totp: false,
      recovery_codes_left: 0,
      passkeys: 1,
    });
    expect(await listed("none")).toBeUndefined();

    const reset = await send("POST", `/admin/users/${holder.id}/mfa/reset`, actor.cookie);
    expect(await reset.json()).toEqual({
      totp_removed: false,
      recovery_codes_removed: 0,
      passkeys_removed: 1,
    });
    expect(
      await pool.oneFirst(sql.unsafe`
      SELECT count(*)::int FROM passkeys WHERE user_id = ${holder.id}`),
    ).toBe(0);
    expect(await auditOf(holder.id, "mfa.removed")).toHaveLength(1);
  });
});
