-- bench scale: $1 users that own the filled sessions ("bench-fill-<n>@example.com").
-- Bench-only SQL (the service's SQL lives in sql/): bulk rows through generate_series,
-- which no sql/ module needs. The hash only has to satisfy the column's CHECK.
INSERT INTO users (email, email_verified, password_hash, is_whitelisted, full_name)
SELECT 'bench-fill-' || n || '@example.com', true, '$argon2id$v=19$m=19456,t=2,p=1$bench$fill', true,
       'Bench Fill ' || n
FROM generate_series(1, $1::int) AS n
ON CONFLICT DO NOTHING;
