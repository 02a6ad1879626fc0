-- Up Migration

-- The admin user search matches a substring of email, username or full name
-- (`ILIKE '%q%'`), which no B-tree can serve: at a million users a rare term
-- would scan the whole table. A trigram GIN index over one expression serves
-- any substring of three or more characters; the planner still prefers the
-- (created_at, id) index when a term is common and the first page fills fast.
-- pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may
-- create it without superuser rights.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE FUNCTION users_search_text(email citext, username citext, full_name text)
  RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN lower(coalesce(email::text, '') || ' ' || coalesce(username::text, '') || ' '
               || coalesce(full_name, ''));

CREATE INDEX users_search_trgm_idx ON users
  USING gin (users_search_text(email, username, full_name) gin_trgm_ops);

-- The list's other filters, each with the page order behind it, so a filter
-- that matches few rows (the not-yet-approved, the locked) is still one range
-- scan instead of a walk of the whole (created_at, id) index.
CREATE INDEX users_whitelisted_created_at_id_idx ON users (is_whitelisted, created_at, id);
CREATE INDEX users_status_created_at_id_idx ON users (status, created_at, id);

-- Down Migration

DROP INDEX users_status_created_at_id_idx;
DROP INDEX users_whitelisted_created_at_id_idx;
DROP INDEX users_search_trgm_idx;
DROP FUNCTION users_search_text(citext, citext, text);
DROP EXTENSION IF EXISTS pg_trgm;
