import { afterAll, describe, expect, test } from "bun:test";
import { sql } from "slonik";
import type { Config } from "../src/config/index.ts";
import type { DatabasePool } from "../src/db/pool.ts";
import { createMailer } from "../src/mail/mailer.ts";
import { sendApprovalDigests } from "../src/users/approval-digest.ts";
import { startTestApp, type TestApp } from "./support/app.ts";
import { createTestDatabase, openTestPool, testLogger } from "./support/database.ts";
import { gitHubUser } from "./support/fake-social-providers.ts";
import { jsonSender } from "./support/requests.ts";
import { signedInUser } from "./support/sign-in.ts";
import { startSignInSite } from "./support/sign-in-site.ts";
import { startTestSmtpServer } from "./support/smtp.ts";

// Administrators hear of users waiting for approval by mail: a digest of
// everyone waiting, at most one per administrator per
// APPROVAL_DIGEST_INTERVAL, however many replicas there are. A real SMTP
// server receives it; the intervals are seconds, not minutes.

const smtp = await startTestSmtpServer();
afterAll(() => smtp.close());

const password = "correct horse battery staple";
let counter = 0;
const signUp = (app: TestApp, email = `newcomer${++counter}@example.com`) =>
  jsonSender(app)("POST", "/auth/signup", null, { email, password, full_name: "New Comer" }).then(
    (response) => {
      expect(response.status).toBe(201);
      return email;
    },
  );

const digestsTo = (to: string) =>
  smtp.received.filter((m) => m.to.includes(to) && /waiting for approval/.test(m.subject));

async function waitForDigests(to: string, n: number, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = digestsTo(to);
    if (found.length >= n) return found;
    await Bun.sleep(50);
  }
  throw new Error(`${digestsTo(to).length} digests to ${to} within ${timeoutMs} ms, not ${n}`);
}

async function adminsOf(pool: DatabasePool, app: TestApp) {
  const admin = () => signedInUser(pool, app.config, { role: "admin", isWhitelisted: true });
  return [(await admin()).user, (await admin()).user];
}

const digestAudits = (pool: DatabasePool, adminId: string) =>
  pool.oneFirst(sql.unsafe`
    SELECT count(*)::int FROM audit_events
    WHERE event_type = 'approval.digest_sent' AND user_id = ${adminId}`);

describe("the digest", () => {
  test("two users joining within the interval make one digest per administrator, the second waits for the interval", async () => {
    const db = await createTestDatabase();
    const app = await startTestApp(db.pool, {
      SMTP_URL: smtp.url,
      APPROVAL_DIGEST_INTERVAL: "4s",
      PUBLIC_URL: "https://auth.example.test",
    });
    try {
      const admins = await adminsOf(db.pool, app);
      const notUsable = await signedInUser(db.pool, app.config, {
        role: "admin",
        isWhitelisted: true,
      });
      await db.pool.query(sql.unsafe`
        UPDATE users SET status = 'inactive' WHERE id = ${notUsable.user.id}`);
      const first = await signUp(app);
      const [digest] = await waitForDigests(admins[0]?.email ?? "", 1);
      await waitForDigests(admins[1]?.email ?? "", 1);
      expect(digest?.source).toContain(
        `${first} (New Comer): signed up with a password, address not confirmed`,
      );
      expect(digest?.source).toContain("https://auth.example.test/admin#pending");

      const second = await signUp(app);
      await Bun.sleep(1000);
      for (const admin of admins) expect(digestsTo(admin.email ?? "")).toHaveLength(1);

      // Once the interval is over, the one held back goes out, listing everyone waiting.
      const [, later] = await waitForDigests(admins[0]?.email ?? "", 2);
      expect(later?.subject).toBe("2 users are waiting for approval");
      expect(later?.source).toContain(first);
      expect(later?.source).toContain(second);
      await waitForDigests(admins[1]?.email ?? "", 2);
      expect(digestsTo(notUsable.user.email ?? "")).toHaveLength(0);
      for (const admin of admins) expect(await digestAudits(db.pool, admin.id)).toBe(2);
    } finally {
      await app.close();
      await db.drop();
    }
  });

  test("someone joining after the interval brings a new digest; nobody new brings none", async () => {
    const db = await createTestDatabase();
    const app = await startTestApp(db.pool, { SMTP_URL: smtp.url, APPROVAL_DIGEST_INTERVAL: "2s" });
    try {
      const [admin] = await adminsOf(db.pool, app);
      const to = admin?.email ?? "";
      await signUp(app);
      await waitForDigests(to, 1);
      // Two intervals with nobody new: no digest repeats the same queue.
      await Bun.sleep(4500);
      expect(digestsTo(to)).toHaveLength(1);
      const third = await signUp(app);
      const [, next] = await waitForDigests(to, 2, 3000);
      expect(next?.source).toContain(third);
    } finally {
      await app.close();
      await db.drop();
    }
  });

  test("two replicas on one database send one digest per administrator", async () => {
    const db = await createTestDatabase();
    const secondPool = await openTestPool(db.url);
    const env = { SMTP_URL: smtp.url, APPROVAL_DIGEST_INTERVAL: "1h" };
    const replicas = [await startTestApp(db.pool, env), await startTestApp(secondPool, env)];
    try {
      const admins = await adminsOf(db.pool, replicas[0] as TestApp);
      // Users join through both replicas at once: each replica runs a digest.
      await Promise.all([0, 1, 2, 3].map((i) => signUp(replicas[i % 2] as TestApp)));
      for (const admin of admins) await waitForDigests(admin.email ?? "", 1);
      // And both replicas' schedules firing at the same moment, many times over.
      const later = await signedInUser(db.pool, replicas[0]?.config as Config, {});
      await db.pool.query(sql.unsafe`
        UPDATE approval_digests SET last_sent_at = now() - interval '2 hours'`);
      const run = (pool: DatabasePool, app: TestApp) =>
        sendApprovalDigests({
          pool,
          logger: testLogger,
          mailer: createMailer(app.config, testLogger),
          config: app.config,
        });
      const sent = await Promise.all(
        [0, 1, 2, 3, 4, 5, 6, 7].map((i) =>
          i % 2 ? run(secondPool, replicas[1] as TestApp) : run(db.pool, replicas[0] as TestApp),
        ),
      );
      expect(sent.reduce((a, b) => a + b, 0)).toBe(admins.length);
      for (const admin of admins) await waitForDigests(admin.email ?? "", 2);
      await Bun.sleep(1000);
      for (const admin of admins) {
        const digests = digestsTo(admin.email ?? "");
        expect(digests).toHaveLength(2);
        expect(digests[1]?.source).toContain(later.user.email ?? "<none>");
        expect(await digestAudits(db.pool, admin.id)).toBe(2);
      }
    } finally {
      for (const replica of replicas) await replica.close();
      await secondPool.end();
      await db.drop();
    }
  });
});

describe("a provider's first sign-in", () => {
  test("a newcomer signing in with GitHub is in the digest, named with the provider", async () => {
    const site = await startSignInSite({ SMTP_URL: smtp.url, APPROVAL_DIGEST_INTERVAL: "1h" });
    try {
      const [admin] = await adminsOf(site.pool, site.app);
      await site.signInWithGitHub(gitHubUser("octo-newcomer@somewhere.example"));
      const [digest] = await waitForDigests(admin?.email ?? "", 1);
      expect(digest?.source).toContain("octo-newcomer@somewhere.example");
      expect(digest?.source).toContain("signed in with github");
    } finally {
      await site.close();
    }
  });

  test("a denied address signing in with GitHub is refused and not queued again", async () => {
    const site = await startSignInSite({ SMTP_URL: smtp.url, APPROVAL_DIGEST_INTERVAL: "1h" });
    try {
      const { cookie } = await signedInUser(site.pool, site.app.config, {
        role: "admin",
        isWhitelisted: true,
      });
      // Signed up with a password, never confirmed the address, then denied.
      const email = "turned-away@somewhere.example";
      await signUp(site.app, email);
      const userId = String(
        await site.pool.oneFirst(sql.unsafe`SELECT id FROM users WHERE email = ${email}`),
      );
      const denied = await jsonSender(site.app)("PATCH", `/admin/users/${userId}`, cookie, {
        status: "denied",
        reason: "Not one of us.",
      });
      expect(denied.status).toBe(200);
      const users = await site.pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM users`);
      const b = await site.signInWithGitHub(gitHubUser(email));
      expect(await site.pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM users`)).toBe(users);
      expect((await b.request("https://auth.example.test/me")).status).toBe(401);
    } finally {
      await site.close();
    }
  });
});
