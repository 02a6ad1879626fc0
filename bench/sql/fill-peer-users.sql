-- bench: $1 better-auth users ("bench-fill-<n>@example.com") that own the
-- filled better-auth sessions, in better-auth's own schema (created by its
-- migrations when the peer first starts).
INSERT INTO "user" (id, name, email, "emailVerified", "createdAt", "updatedAt")
SELECT 'bench-fill-user-' || n, 'Bench Fill ' || n, 'bench-fill-' || n || '@example.com', true,
       now(), now()
FROM generate_series(1, $1::int) AS n
ON CONFLICT DO NOTHING;
