import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sessionKey } from "../src/sessions/credential-cache.ts";
import { hashSecret } from "../src/sessions/sessions.ts";
import { startTestApp } from "./support/app.ts";
import { cliEnv, runCli } from "./support/cli.ts";
import { createTestDatabase } from "./support/database.ts";
import { signedInUser } from "./support/sign-in.ts";

// A restore replaces every row with triggers off, so no row change notifies
// anyone: the restore itself must tell every replica to drop its cache.
// Its own database: the restore truncates every table.

setDefaultTimeout(60_000); // the CLI runs as separate processes

const db = await createTestDatabase();
const dir = await mkdtemp(join(tmpdir(), "gatehouse-restore-cache-"));
const env = cliEnv(db.url, dir);
// The longest TTL: a refusal within a second cannot be the TTL's doing.
const app = await startTestApp(db.pool, { AUTH_CACHE_TTL: "10s" });
afterAll(async () => {
  await app.close();
  await db.drop();
  await rm(dir, { recursive: true, force: true });
});

const verify = (cookie: string) => app.request("/auth/verify?mode=401", { headers: { cookie } });

test("after a restore, a cached session that the restored data does not have is refused at once", async () => {
  const backup = await runCli(["backup", "--json"], env);
  expect(backup.code).toBe(0);
  const { path } = JSON.parse(backup.stdout) as { path: string };

  // Signed in after the backup was taken: the restored data has no such session.
  const { cookie } = await signedInUser(db.pool, app.config, { isWhitelisted: true });
  const key = sessionKey(hashSecret(cookie.slice(cookie.indexOf("=") + 1)).toString("base64"));
  const deadline = performance.now() + 5000;
  while (app.credentialCache?.get(key) === undefined) {
    if (performance.now() > deadline) throw new Error("the session was never cached");
    expect((await verify(cookie)).status).toBe(200);
  }

  const restore = await runCli(["restore", path, "--yes"], env);
  expect(restore.code).toBe(0);

  // Well within the heartbeat window too: the restore's own notification did it.
  const refusedBy = performance.now() + 1000;
  let status = (await verify(cookie)).status;
  while (status !== 401 && performance.now() < refusedBy) {
    await Bun.sleep(10);
    status = (await verify(cookie)).status;
  }
  expect(status).toBe(401);
  expect(app.credentialCache?.get(key)).toBeUndefined();
});
