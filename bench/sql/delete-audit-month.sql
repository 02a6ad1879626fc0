-- bench scale: retention the slow way, for comparison with dropping the
-- partition: delete the rows of the month starting at $1.
DELETE FROM audit_events
WHERE occurred_at >= $1::date::timestamp AT TIME ZONE 'UTC'
  AND occurred_at < ($1::date + interval '1 month')::timestamp AT TIME ZONE 'UTC';
