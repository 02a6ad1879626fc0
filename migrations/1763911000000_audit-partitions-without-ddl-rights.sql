-- Up Migration

-- The service may run as a role that cannot change the schema (`gatehouse
-- db roles`), yet its cleanup job creates the coming months' audit
-- partitions and drops the months past retention. These two functions do
-- exactly that, and nothing else, with the rights of the role that ran this
-- migration (SECURITY DEFINER), so the runtime role needs no DDL right.
-- Their search_path is pinned to this schema (then pg_temp) so a caller
-- cannot slip its own objects in, and PUBLIC may not call them: the runtime
-- role gets EXECUTE from `gatehouse db roles`.

CREATE OR REPLACE FUNCTION ensure_audit_partitions(months_ahead integer) RETURNS integer
  LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  month_start date := date_trunc('month', now() AT TIME ZONE 'UTC')::date;
  partition_name text;
  created integer := 0;
BEGIN
  -- A caller may make tables, but not without bound.
  IF months_ahead NOT BETWEEN 0 AND 24 THEN
    RAISE EXCEPTION 'months_ahead must be between 0 and 24, not %', months_ahead;
  END IF;
  FOR i IN 0..months_ahead LOOP
    partition_name := format('audit_events_y%sm%s',
      to_char(month_start, 'YYYY'), to_char(month_start, 'MM'));
    IF to_regclass(partition_name) IS NULL THEN
      EXECUTE format(
        'CREATE TABLE %I PARTITION OF audit_events FOR VALUES FROM (%L) TO (%L)',
        partition_name,
        (month_start::timestamp AT TIME ZONE 'UTC'),
        ((month_start + interval '1 month')::timestamp AT TIME ZONE 'UTC'));
      created := created + 1;
    END IF;
    month_start := (month_start + interval '1 month')::date;
  END LOOP;
  RETURN created;
END;
$$;

-- Drops one monthly partition of audit_events whose range has ended: never
-- the default partition, a current or future month, or any other table.
CREATE FUNCTION drop_audit_partition(partition_name text) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  doomed regclass;
  partition_ends_at timestamptz;
BEGIN
  SELECT c.oid::regclass,
         (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO [(]''([^'']+)''[)]'))[1]::timestamptz
    INTO doomed, partition_ends_at
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
   WHERE i.inhparent = 'audit_events'::regclass AND c.relname = partition_name;
  IF partition_ends_at IS NULL THEN
    RAISE EXCEPTION 'not a monthly partition of audit_events: %', partition_name;
  END IF;
  IF partition_ends_at > now() THEN
    RAISE EXCEPTION 'audit partition % has not ended yet', partition_name;
  END IF;
  EXECUTE format('DROP TABLE %s', doomed);
END;
$$;

DO $$
BEGIN
  EXECUTE format('ALTER FUNCTION ensure_audit_partitions(integer) SET search_path = %I, pg_temp', current_schema());
  EXECUTE format('ALTER FUNCTION drop_audit_partition(text) SET search_path = %I, pg_temp', current_schema());
END;
$$;

REVOKE ALL ON FUNCTION ensure_audit_partitions(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION drop_audit_partition(text) FROM PUBLIC;

-- Down Migration

DROP FUNCTION drop_audit_partition(text);

GRANT EXECUTE ON FUNCTION ensure_audit_partitions(integer) TO PUBLIC;

CREATE OR REPLACE FUNCTION ensure_audit_partitions(months_ahead integer) RETURNS integer
  LANGUAGE plpgsql SECURITY INVOKER AS $$
DECLARE
  month_start date := date_trunc('month', now() AT TIME ZONE 'UTC')::date;
  partition_name text;
  created integer := 0;
BEGIN
  FOR i IN 0..months_ahead LOOP
    partition_name := format('audit_events_y%sm%s',
      to_char(month_start, 'YYYY'), to_char(month_start, 'MM'));
    IF to_regclass(partition_name) IS NULL THEN
      EXECUTE format(
        'CREATE TABLE %I PARTITION OF audit_events FOR VALUES FROM (%L) TO (%L)',
        partition_name,
        (month_start::timestamp AT TIME ZONE 'UTC'),
        ((month_start + interval '1 month')::timestamp AT TIME ZONE 'UTC'));
      created := created + 1;
    END IF;
    month_start := (month_start + interval '1 month')::date;
  END LOOP;
  RETURN created;
END;
$$;

ALTER FUNCTION ensure_audit_partitions(integer) RESET search_path;
