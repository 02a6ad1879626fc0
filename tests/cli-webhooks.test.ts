import { expect, setDefaultTimeout, test } from "bun:test";
import { sql } from "slonik";
import { z } from "zod";
import { cliTestSetup, runCli } from "./support/cli.ts";

// `gatehouse webhooks add|list|remove` as an operator runs it: a process of
// its own over the same database the server uses.

// One subprocess per step.
setDefaultTimeout(60_000);

const { db, env } = await cliTestSetup("webhooks");
const lenient = { ...env, WEBHOOK_ALLOW_PRIVATE: "true" };

type Added = { id: string; url: string; events: string[]; secret: string };

test("webhooks add prints the endpoint and its secret, list shows it without the secret, remove deletes it", async () => {
  const add = await runCli(
    ["webhooks", "add", "http://127.0.0.1:9/hook", "user.created,user.deleted", "--json"],
    lenient,
  );
  expect(add.code).toBe(0);
  const added = JSON.parse(add.stdout) as Added;
  expect(added).toMatchObject({
    url: "http://127.0.0.1:9/hook",
    events: ["user.created", "user.deleted"],
  });
  expect(added.secret).toStartWith("whsec_");

  const list = await runCli(["webhooks", "list"], lenient);
  expect(list.code).toBe(0);
  expect(list.stdout).toContain(`${added.id}  http://127.0.0.1:9/hook  user.created,user.deleted`);
  expect(list.stdout).not.toContain(added.secret);

  const remove = await runCli(["webhooks", "remove", added.id], lenient);
  expect(remove.code).toBe(0);
  expect(remove.stdout).toStartWith(`removed ${added.id}`);
  const left = await db.pool.oneFirst(sql.type(z.object({ n: z.number() }))`
    SELECT count(*)::int AS n FROM webhook_endpoints`);
  expect(left).toBe(0);
  const audited = await db.pool.anyFirst(sql.type(z.object({ event_type: z.string() }))`
    SELECT event_type FROM audit_events WHERE event_type LIKE 'admin.webhook_%' ORDER BY occurred_at`);
  expect(audited).toEqual(["admin.webhook_added", "admin.webhook_removed"]);
});

test("webhooks add refuses a private address without WEBHOOK_ALLOW_PRIVATE in one line, exit 1", async () => {
  const result = await runCli(["webhooks", "add", "http://127.0.0.1:9/hook", "user.created"], env);
  expect(result.code).toBe(1);
  const lines = result.stderr.trim().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain("WEBHOOK_ALLOW_PRIVATE");
  const count = await db.pool.oneFirst(sql.type(z.object({ n: z.number() }))`
    SELECT count(*)::int AS n FROM webhook_endpoints`);
  expect(count).toBe(0);
});

test("webhooks add names an unknown event, and remove an unknown id, in one line, exit 1", async () => {
  const unknown = await runCli(
    ["webhooks", "add", "http://127.0.0.1:9/", "user.exploded"],
    lenient,
  );
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toContain("unknown or repeated event");
  const missing = await runCli(["webhooks", "remove", crypto.randomUUID()], lenient);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain("no webhook endpoint with id");
});
