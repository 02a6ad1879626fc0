import { type CommonQueryMethods, type DatabaseTransactionConnection, sql } from "slonik";
import { z } from "zod";

// Catalog reads and bulk row copies for the logical backup (src/ops/backup.ts)
// and restore. Rows travel as row_to_json text and come back through
// json_populate_recordset, so every column type round-trips through its own
// text form (bytea as \x hex, inet, interval, jsonb) with no per-type code.

/** Freezes one snapshot for every following read of the transaction. */
export async function beginReadOnlySnapshot(tx: DatabaseTransactionConnection): Promise<void> {
  await tx.query(sql.unsafe`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY`);
}

/**
 * The tables Gatehouse's migrations create and its backups carry; a restore
 * writes into these and no others. A migration that adds a table adds it here
 * (tests/backup-integrity.test.ts compares this list with the schema).
 */
export const serviceTables: readonly string[] = [
  "allowlist_rules",
  "approval_digests",
  "audit_events",
  "mfa_recovery_codes",
  "mfa_totp",
  "oauth_accounts",
  "oauth_authorization_codes",
  "oauth_clients",
  "oauth_consents",
  "passkeys",
  "pending_sign_ins",
  "refresh_tokens",
  "revoked_access_tokens",
  "sessions",
  "users",
  "verification_tokens",
  "webhook_deliveries",
  "webhook_endpoints",
];

/** A leaf partition a backup may create: named after its parent, nothing else. */
export const isPartitionNameOf = (parent: string, name: string) =>
  name.startsWith(`${parent}_`) && /^[a-z][a-z0-9_]{0,62}$/.test(name);

export const backupTableRow = z.object({ name: z.string(), partitioned: z.boolean() });
export type BackupTable = z.infer<typeof backupTableRow>;

/**
 * The tables a backup holds: the service's tables (serviceTables) present in
 * the public schema, without leaf partitions (their rows are read through the
 * partitioned parent's leaves). The migration log stays out (the restoring
 * side keeps its own), as do UNLOGGED scratch tables (rate-limit counters)
 * and any table some other software keeps in the same schema.
 */
export async function listBackupTables(db: CommonQueryMethods): Promise<readonly BackupTable[]> {
  return db.any(sql.type(backupTableRow)`
    SELECT c.relname AS name, c.relkind = 'p' AS partitioned
    FROM pg_class c
    WHERE c.relnamespace = 'public'::regnamespace
      AND c.relkind IN ('r', 'p')
      AND NOT c.relispartition
      AND c.relpersistence = 'p'
      AND c.relname = ANY(${sql.array([...serviceTables], "text")})
    ORDER BY c.relname`);
}

export const partitionRow = z.object({ name: z.string(), bound: z.string() });
export type Partition = z.infer<typeof partitionRow>;

/** Leaf partitions of a partitioned table with their bounds (`FOR VALUES ...` or `DEFAULT`). */
export async function listPartitions(
  db: CommonQueryMethods,
  table: string,
): Promise<readonly Partition[]> {
  return db.any(sql.type(partitionRow)`
    SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
    FROM pg_partition_tree(${table}::regclass) t
    JOIN pg_class c ON c.oid = t.relid
    WHERE t.isleaf
    ORDER BY c.relname`);
}

const rowPageRow = z.object({ position: z.string(), line: z.string() });

/**
 * One page of a table's rows as JSON text, after `position` (a ctid) in
 * physical order: a keyset walk that never re-reads earlier pages.
 */
export async function readRowPage(
  db: CommonQueryMethods,
  table: string,
  after: string,
  limit: number,
): Promise<readonly z.infer<typeof rowPageRow>[]> {
  return db.any(sql.type(rowPageRow)`
    SELECT t.ctid::text AS position, row_to_json(t)::text AS line
    FROM ${sql.identifier([table])} t
    WHERE t.ctid > ${after}::tid
    ORDER BY t.ctid
    LIMIT ${limit}`);
}

export const firstRowPosition = "(0,0)";

/**
 * Foreign keys and triggers off until COMMIT, for a load whose rows came
 * from one consistent snapshot (a parent may come after its child, e.g.
 * refresh_tokens.parent_id). Needs a superuser or, from PostgreSQL 15,
 * `GRANT SET ON PARAMETER session_replication_role TO <role>`.
 */
export async function suspendTriggersForRestore(tx: DatabaseTransactionConnection): Promise<void> {
  await tx.query(sql.unsafe`SET LOCAL session_replication_role = replica`);
}

export async function truncateTables(db: CommonQueryMethods, tables: readonly string[]) {
  if (tables.length === 0) return;
  await db.query(sql.unsafe`
    TRUNCATE ${sql.join(
      tables.map((t) => sql.identifier([t])),
      sql.fragment`, `,
    )}`);
}

/** Creates a missing range partition of `parent` (e.g. an old audit month). */
export async function createRangePartition(
  db: CommonQueryMethods,
  parent: string,
  partition: { name: string; from: string; to: string },
): Promise<void> {
  await db.query(sql.unsafe`
    CREATE TABLE IF NOT EXISTS ${sql.identifier([partition.name])}
    PARTITION OF ${sql.identifier([parent])}
    FOR VALUES FROM (${sql.literalValue(partition.from)}) TO (${sql.literalValue(partition.to)})`);
}

/** Inserts rows given as JSON objects (the backup's lines), matched to columns by name. */
export async function insertJsonRows(
  db: CommonQueryMethods,
  table: string,
  jsonLines: readonly string[],
): Promise<number> {
  if (jsonLines.length === 0) return 0;
  const result = await db.query(sql.unsafe`
    INSERT INTO ${sql.identifier([table])}
    SELECT * FROM json_populate_recordset(NULL::${sql.identifier([table])}, ${`[${jsonLines.join(",")}]`}::json)`);
  return result.rowCount;
}

/** Every row of a table as sorted JSON text: how tests and validation compare two databases. */
export async function readAllRowsAsJson(
  db: CommonQueryMethods,
  table: string,
): Promise<readonly string[]> {
  const rows = await db.anyFirst(sql.type(z.object({ line: z.string() }))`
    SELECT row_to_json(t)::text AS line FROM ${sql.identifier([table])} t`);
  return [...rows].sort();
}

export async function serverVersion(db: CommonQueryMethods): Promise<string> {
  return db.oneFirst(sql.type(z.object({ version: z.string() }))`
    SELECT current_setting('server_version') AS version`);
}
