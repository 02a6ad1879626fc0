import { afterAll, expect, test } from "bun:test";
import pg from "pg";
import { migrationNamesOnDisk, runMigrations } from "../src/db/migrations.ts";
import { createEmptyDatabase, createTestDatabase, testLogger } from "./support/database.ts";
import { testPasswordHash } from "./support/sign-in.ts";

const database = await createEmptyDatabase();
afterAll(() => database.drop());

/** Tables, columns, constraints, indexes, triggers and functions of the public schema, as text. */
async function describeSchema(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ line: string }>(`
      SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable
             || ' ' || coalesce(column_default, '') AS line
        FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'pgmigrations'
      UNION ALL
      SELECT 'constraint ' || conrelid::regclass || ' ' || pg_get_constraintdef(oid)
        FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text <> 'pgmigrations'
      UNION ALL
      SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename <> 'pgmigrations'
      UNION ALL
      SELECT 'trigger ' || tgname || ' ' || pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal
      UNION ALL
      SELECT 'function ' || proname || ' ' || md5(prosrc) FROM pg_proc WHERE pronamespace = 'public'::regnamespace
      UNION ALL
      SELECT 'relation ' || relname || ' ' || relkind::text || ' ' || relpersistence::text
        FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relname NOT LIKE 'pgmigrations%'
      ORDER BY 1`);
    return rows.map((r) => r.line);
  } finally {
    await client.end();
  }
}

test("migrations apply in full, revert to zero and apply again to the same schema", async () => {
  const all = await migrationNamesOnDisk();
  const applied = await runMigrations({
    databaseUrl: database.url,
    direction: "up",
    logger: testLogger,
  });
  expect(applied).toEqual(all);
  const first = await describeSchema(database.url);
  expect(
    first.some(
      (l) =>
        l.startsWith("column users.email USER-DEFINED NO") ||
        l.startsWith("column users.email USER-DEFINED YES"),
    ),
  ).toBe(true);

  const reverted = await runMigrations({
    databaseUrl: database.url,
    direction: "down",
    count: Number.POSITIVE_INFINITY,
    logger: testLogger,
  });
  expect(reverted).toEqual([...all].reverse());
  expect(await describeSchema(database.url)).toEqual([]);

  await runMigrations({ databaseUrl: database.url, direction: "up", logger: testLogger });
  expect(await describeSchema(database.url)).toEqual(first);
});

test("two replicas migrating at once both succeed and apply each migration once", async () => {
  const fresh = await createEmptyDatabase();
  try {
    const [a, b] = await Promise.all([
      runMigrations({ databaseUrl: fresh.url, direction: "up", logger: testLogger }),
      runMigrations({ databaseUrl: fresh.url, direction: "up", logger: testLogger }),
    ]);
    expect([...a, ...b].sort()).toEqual(await migrationNamesOnDisk());
  } finally {
    await fresh.drop();
  }
});

test("the schema includes the audit partitions for the coming months and an unlogged counter table", async () => {
  const migrated = await createTestDatabase();
  const lines = await describeSchema(migrated.url);
  await migrated.drop();
  const now = new Date();
  const month = (offset: number) => {
    const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1));
    return `audit_events_y${d.getUTCFullYear()}m${String(d.getUTCMonth() + 1).padStart(2, "0")}`;
  };
  for (const offset of [0, 1, 2, 3]) expect(lines).toContain(`relation ${month(offset)} r p`);
  expect(lines).toContain("relation audit_events_default r p");
  expect(lines).toContain("relation rate_limit_counters r u");
});

/**
 * An upgrade over rows written before `migration`: a new database migrated up
 * to just before it, a client on it for `check` to write and read through,
 * and `upgrade` to apply the rest. The database is dropped after.
 */
async function acrossMigration(
  migration: string,
  check: (client: pg.Client, upgrade: () => Promise<unknown>) => Promise<void>,
) {
  const older = await createEmptyDatabase();
  const client = new pg.Client({ connectionString: older.url });
  try {
    const before = (await migrationNamesOnDisk()).indexOf(migration);
    expect(before).toBeGreaterThan(0);
    await runMigrations({
      databaseUrl: older.url,
      direction: "up",
      count: before,
      logger: testLogger,
    });
    await client.connect();
    await check(client, () =>
      runMigrations({ databaseUrl: older.url, direction: "up", logger: testLogger }),
    );
  } finally {
    await client.end().catch(() => {});
    await older.drop();
  }
}

test("an administrator's demotion audited before the upgrade still outranks ADMIN_EMAILS after it", async () => {
  await acrossMigration(
    "1763910000000_administrator-decisions-outrank-sign-in-grants",
    async (client, upgrade) => {
      const { rows } = await client.query<{ id: string }>(
        `INSERT INTO users (email, email_verified, password_hash) VALUES
         ('demoted@example.com', true, $1), ('untouched@example.com', true, $1)
       RETURNING id`,
        [testPasswordHash],
      );
      const [demoted, untouched] = rows.map((r) => r.id);
      await client.query(
        `INSERT INTO audit_events (event_type, result, user_id, context) VALUES
         ('admin.user_updated', 'success', $1, '{"role": "user"}'),
         ('admin.user_updated', 'success', $2, '{"status": "active"}')`,
        [demoted, untouched],
      );

      await upgrade();
      const after = await client.query<{
        email: string;
        role_decided: boolean;
        approval_decided: boolean;
      }>(`SELECT email, role_decided_at IS NOT NULL AS role_decided,
               approval_decided_at IS NOT NULL AS approval_decided
        FROM users ORDER BY email`);
      expect(after.rows).toEqual([
        { email: "demoted@example.com", role_decided: true, approval_decided: false },
        { email: "untouched@example.com", role_decided: false, approval_decided: false },
      ]);
    },
  );
});

test("approvals given before the upgrade are attributed to the rule the audit trail or the verified address names", async () => {
  await acrossMigration("1763921000000_why-each-user-is-let-in", async (client, upgrade) => {
    const rules = await client.query<{ id: string; kind: string }>(
      `INSERT INTO allowlist_rules (kind, value) VALUES ('github_org', 'acme'), ('domain', 'back.example')
       RETURNING id, kind`,
    );
    const ruleOf = (kind: string) => rules.rows.find((r) => r.kind === kind)?.id;
    const { rows } = await client.query<{ id: string; email: string }>(
      `INSERT INTO users (email, email_verified, password_hash, is_whitelisted, approval_decided_at, role)
       VALUES ('admin@else.example', true, $1, true, NULL, 'admin'),
              ('gh@else.example', true, $1, true, NULL, 'user'),
              ('dom@back.example', true, $1, true, NULL, 'user'),
              ('hand@back.example', true, $1, true, now(), 'user'),
              ('legacy@else.example', true, $1, true, NULL, 'user'),
              ('pending@back.example', true, $1, false, NULL, 'user')
       RETURNING id, email`,
      [testPasswordHash],
    );
    const id = (email: string) => rows.find((r) => r.email === email)?.id;
    await client.query(
      `INSERT INTO audit_events (event_type, result, user_id, actor_id, context) VALUES
         ('account.auto_approved', 'success', $1, NULL, '{"allowlist_rule": "github_org:acme"}'),
         ('admin.user_updated', 'success', $2, $3, '{"is_whitelisted": true}')`,
      [id("gh@else.example"), id("hand@back.example"), id("admin@else.example")],
    );

    await upgrade();
    const after = await client.query<{
      email: string;
      approved_by_rule_id: string | null;
      approval_decided_by: string | null;
    }>(`SELECT email, approved_by_rule_id, approval_decided_by FROM users ORDER BY email`);
    expect(after.rows).toEqual([
      { email: "admin@else.example", approved_by_rule_id: null, approval_decided_by: null },
      {
        email: "dom@back.example",
        approved_by_rule_id: ruleOf("domain") ?? "",
        approval_decided_by: null,
      },
      {
        email: "gh@else.example",
        approved_by_rule_id: ruleOf("github_org") ?? "",
        approval_decided_by: null,
      },
      {
        email: "hand@back.example",
        approved_by_rule_id: null,
        approval_decided_by: id("admin@else.example") ?? "",
      },
      { email: "legacy@else.example", approved_by_rule_id: null, approval_decided_by: null },
      { email: "pending@back.example", approved_by_rule_id: null, approval_decided_by: null },
    ]);
  });
});
