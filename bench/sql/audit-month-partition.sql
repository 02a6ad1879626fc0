-- bench scale: the DDL that creates the audit partition of the month starting
-- at $1 (named like ensure_audit_partitions names them); the bench runs it.
SELECT format('CREATE TABLE IF NOT EXISTS %I PARTITION OF audit_events FOR VALUES FROM (%L) TO (%L)',
              'audit_events_y' || to_char($1::date, 'YYYY') || 'm' || to_char($1::date, 'MM'),
              $1::date::timestamp AT TIME ZONE 'UTC',
              ($1::date + interval '1 month')::timestamp AT TIME ZONE 'UTC') AS ddl,
       'audit_events_y' || to_char($1::date, 'YYYY') || 'm' || to_char($1::date, 'MM') AS name;
