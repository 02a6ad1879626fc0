import { type CommonQueryMethods, type QuerySqlToken, sql } from "slonik";
import { z } from "zod";

// The runtime role: the rows of every table, nothing of the schema. These
// statements run as the role that owns the schema (the one migrations run
// as), which grants what it owns; `gatehouse db roles` prints or applies them.
// LISTEN/NOTIFY and advisory locks need no grant; the two SECURITY DEFINER
// audit-partition functions need EXECUTE, which PUBLIC lacks. The webhook
// queue's schema (graphile_worker) gets the same row rights.

/** The statements that create (if missing) and grant the runtime role, in order. */
export function runtimeRoleStatements(
  role: string,
  { login }: { login: boolean },
): QuerySqlToken[] {
  const name = sql.identifier([role]);
  const literal = sql.literalValue(role);
  return [
    // CREATE ROLE has no IF NOT EXISTS; an existing role is granted to, and checked below.
    sql.unsafe`DO $$ BEGIN
  CREATE ROLE ${name} ${login ? sql.fragment`LOGIN` : sql.fragment`NOLOGIN`};
EXCEPTION WHEN duplicate_object THEN
  RAISE NOTICE 'role % exists: granting to it', ${literal};
END $$`,
    sql.unsafe`DO $$ BEGIN
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), ${literal});
END $$`,
    sql.unsafe`GRANT USAGE ON SCHEMA public TO ${name}`,
    sql.unsafe`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${name}`,
    // Readiness compares node-pg-migrate's record with the code; only the owner writes it.
    sql.unsafe`DO $$ BEGIN
  IF to_regclass('public.pgmigrations') IS NOT NULL THEN
    EXECUTE format('REVOKE INSERT, UPDATE, DELETE ON public.pgmigrations FROM %I', ${literal});
  END IF;
END $$`,
    sql.unsafe`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${name}`,
    sql.unsafe`GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO ${name}`,
    // What later migrations create (as this same owner) is granted as it appears.
    sql.unsafe`ALTER DEFAULT PRIVILEGES IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${name}`,
    sql.unsafe`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO ${name}`,
    sql.unsafe`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO ${name}`,
    // The webhook delivery queue (graphile-worker's own schema): adding, taking and
    // finishing jobs are row changes and calls of its functions, nothing more.
    sql.unsafe`DO $$ BEGIN
  IF to_regnamespace('graphile_worker') IS NOT NULL THEN
    EXECUTE format('GRANT USAGE ON SCHEMA graphile_worker TO %I', ${literal});
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA graphile_worker TO %I', ${literal});
    EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA graphile_worker TO %I', ${literal});
    EXECUTE format('GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA graphile_worker TO %I', ${literal});
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA graphile_worker GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I', ${literal});
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA graphile_worker GRANT USAGE, SELECT ON SEQUENCES TO %I', ${literal});
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA graphile_worker GRANT EXECUTE ON FUNCTIONS TO %I', ${literal});
  END IF;
END $$`,
    // Its tables have row-level security on and no policy (only their owner may
    // read them): one policy per table lets the role work the queue's rows.
    sql.unsafe`DO $$ DECLARE t record; BEGIN
  IF to_regnamespace('graphile_worker') IS NOT NULL THEN
    FOR t IN SELECT relname FROM pg_class
             WHERE relnamespace = 'graphile_worker'::regnamespace AND relkind = 'r' AND relrowsecurity LOOP
      IF NOT EXISTS (SELECT 1 FROM pg_policies WHERE schemaname = 'graphile_worker'
                     AND tablename = t.relname AND policyname = ${literal}) THEN
        EXECUTE format('CREATE POLICY %I ON graphile_worker.%I TO %I USING (true) WITH CHECK (true)',
                       ${literal}, t.relname, ${literal});
      END IF;
    END LOOP;
  END IF;
END $$`,
    // An existing role, a membership or PostgreSQL 14's defaults may give more than the
    // grants above: refuse (and so roll back) rather than leave a role that can change the schema.
    sql.unsafe`DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${literal} AND (rolsuper OR rolbypassrls))
     OR has_schema_privilege(${literal}, 'public', 'CREATE')
     OR has_database_privilege(${literal}, current_database(), 'CREATE')
     OR EXISTS (SELECT 1 FROM pg_class
                WHERE relnamespace = 'public'::regnamespace
                  AND pg_has_role(${literal}, relowner, 'USAGE')) THEN
    RAISE EXCEPTION 'role % could still change the schema (a superuser, an owner or member of the owner, or CREATE on the schema or database): revoke that first, e.g. REVOKE CREATE ON SCHEMA public FROM PUBLIC as the schema owner', ${literal};
  END IF;
END $$`,
  ];
}

/** Runs the statements in order; the caller holds the transaction (all of them or none). */
export async function applyStatements(
  db: CommonQueryMethods,
  statements: readonly QuerySqlToken[],
): Promise<void> {
  for (const statement of statements) await db.query(statement);
}

export async function roleExists(db: CommonQueryMethods, role: string): Promise<boolean> {
  return db.oneFirst(sql.type(z.object({ exists: z.boolean() }))`
    SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${role}) AS exists`);
}

/**
 * Sets a role's password from a SCRAM-SHA-256 verifier, which PostgreSQL
 * stores as is: the password itself never reaches the server, its logs or
 * pg_stat_activity (ALTER ROLE takes no parameters, so the value is inline).
 */
export async function setRolePasswordVerifier(
  db: CommonQueryMethods,
  role: string,
  verifier: string,
): Promise<void> {
  await db.query(
    sql.unsafe`ALTER ROLE ${sql.identifier([role])} PASSWORD ${sql.literalValue(verifier)}`,
  );
}
