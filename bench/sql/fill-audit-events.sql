-- bench scale: $1 audit events spread evenly over [$2, $3).
INSERT INTO audit_events (occurred_at, event_type, result, user_id, ip, user_agent, context)
SELECT $2::timestamptz + ($3::timestamptz - $2::timestamptz) * ((n - 1)::float8 / $1::int),
       CASE WHEN n % 7 = 0 THEN 'login.password' ELSE 'session.created' END,
       CASE WHEN n % 13 = 0 THEN 'failure' ELSE 'success' END,
       NULL, '127.0.0.1', 'gatehouse-bench-fill', jsonb_build_object('n', n)
FROM generate_series(1, $1::int) AS n;
