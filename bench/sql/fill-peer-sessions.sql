-- bench: better-auth sessions number $1 + 1 .. $2, shaped like
-- fill-sessions.sql: session n's token is n left-padded with 'x' to 32
-- characters (the bench signs the cookie itself, see bench/peer.ts), every
-- tenth one expired. Live ones were updated just now and expire in 7 days,
-- so get-session has no reason to refresh them (no write in the load), as
-- the Gatehouse fill keeps its sessions clear of the once-a-minute touch.
WITH owners AS (
  SELECT array_agg(id ORDER BY id) AS ids FROM "user" WHERE email LIKE 'bench-fill-%'
)
INSERT INTO "session" (id, token, "userId", "createdAt", "updatedAt", "expiresAt", "ipAddress",
                       "userAgent")
SELECT 'bench-fill-session-' || n, lpad(n::text, 32, 'x'),
       owners.ids[1 + n % array_length(owners.ids, 1)],
       CASE WHEN n % 10 = 0 THEN now() - interval '60 days' ELSE now() END,
       CASE WHEN n % 10 = 0 THEN now() - interval '40 days' ELSE now() END,
       CASE WHEN n % 10 = 0 THEN now() - interval '30 days' ELSE now() + interval '7 days' END,
       '127.0.0.1', 'gatehouse-bench-fill'
FROM owners, generate_series($1::bigint + 1, $2::bigint) AS n;
