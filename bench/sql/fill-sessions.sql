-- bench scale: sessions number $1 + 1 .. $2. Session n's cookie secret is n
-- left-padded with 'x' to 43 characters (a well-formed secret), so the load
-- can pick any live session at random; its row stores SHA-256 of that secret,
-- as createSession does. Every tenth session expired 30 days ago: the
-- cleanup has that much to remove. Live ones are "last seen" a day ahead, so
-- no request of the load writes its once-a-minute touch: otherwise the first
-- step (filled seconds before its load) would be read-only and the later ones,
-- whose older sessions were filled minutes earlier, would write on most
-- requests, and the steps would measure different things.
WITH owners AS (
  SELECT array_agg(id ORDER BY id) AS ids FROM users WHERE email LIKE 'bench-fill-%'
)
INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at, idle_timeout, ip,
                      user_agent)
SELECT sha256(convert_to(lpad(n::text, 43, 'x'), 'UTF8')),
       owners.ids[1 + n % array_length(owners.ids, 1)],
       CASE WHEN n % 10 = 0 THEN now() - interval '60 days' ELSE now() - interval '1 hour' END,
       CASE WHEN n % 10 = 0 THEN now() - interval '40 days' ELSE now() + interval '1 day' END,
       CASE WHEN n % 10 = 0 THEN now() - interval '30 days' ELSE now() + interval '30 days' END,
       interval '7 days', '127.0.0.1', 'gatehouse-bench-fill'
FROM owners, generate_series($1::bigint + 1, $2::bigint) AS n;
