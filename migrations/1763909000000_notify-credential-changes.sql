-- Up Migration

-- Replicas cache validated sessions and bearer-token checks for a moment
-- (src/auth/credential-cache.ts). Every change that could turn a cached
-- "yes" into a "no" notifies them on the channel gatehouse_credentials, from
-- a trigger, so no code path (present or future, SQL console included) can
-- forget to: the notification is sent at commit of the very transaction that
-- made the change, and never for a transaction that rolls back.
-- Payloads: s:<session id>, u:<user id>, j:<access-token jti>.

-- Any change to a session but the once-a-minute last_seen_at touch, and the
-- deletion of a session that was neither revoked (revoking notified) nor past
-- its absolute expiry (a cached copy checks that itself), so that cleanup's
-- batches of dead sessions stay quiet.
CREATE FUNCTION sessions_notify_credentials() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF OLD.revoked_at IS NULL AND OLD.expires_at > now() THEN
      PERFORM pg_notify('gatehouse_credentials', 's:' || OLD.id);
    END IF;
  ELSIF to_jsonb(OLD) - 'last_seen_at' IS DISTINCT FROM to_jsonb(NEW) - 'last_seen_at' THEN
    PERFORM pg_notify('gatehouse_credentials', 's:' || OLD.id);
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER sessions_notify_credentials
  AFTER UPDATE OR DELETE ON sessions
  FOR EACH ROW EXECUTE FUNCTION sessions_notify_credentials();

-- Any change to a user (status, role, approval, name, email, tokens cut-off,
-- lock, password, sign-in time, deletion) but the failed-attempt counter (an
-- attack on one account must not flood every replica) and updated_at, which
-- changes always.
CREATE FUNCTION users_notify_credentials() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE'
     OR to_jsonb(OLD) - '{updated_at,failed_login_attempts}'::text[]
        IS DISTINCT FROM to_jsonb(NEW) - '{updated_at,failed_login_attempts}'::text[]
  THEN
    PERFORM pg_notify('gatehouse_credentials', 'u:' || OLD.id);
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER users_notify_credentials
  AFTER UPDATE OR DELETE ON users
  FOR EACH ROW EXECUTE FUNCTION users_notify_credentials();

CREATE FUNCTION revoked_access_tokens_notify_credentials() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('gatehouse_credentials', 'j:' || NEW.jti);
  RETURN NULL;
END;
$$;

CREATE TRIGGER revoked_access_tokens_notify_credentials
  AFTER INSERT ON revoked_access_tokens
  FOR EACH ROW EXECUTE FUNCTION revoked_access_tokens_notify_credentials();

-- Down Migration

DROP TRIGGER revoked_access_tokens_notify_credentials ON revoked_access_tokens;
DROP FUNCTION revoked_access_tokens_notify_credentials();
DROP TRIGGER users_notify_credentials ON users;
DROP FUNCTION users_notify_credentials();
DROP TRIGGER sessions_notify_credentials ON sessions;
DROP FUNCTION sessions_notify_credentials();
