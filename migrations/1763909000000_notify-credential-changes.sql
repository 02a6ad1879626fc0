-- Up Migration

-- Replicas cache validated sessions and bearer-token checks for a moment
-- (src/auth/credential-cache.ts). Every change that could turn a cached
-- "yes" into a "no" notifies them on the channel gatehouse_credentials, from
-- a trigger, so no code path (present or future, SQL console included) can
-- forget to: the notification is sent at commit of the very transaction that
-- made the change, and never for a transaction that rolls back.
-- Payloads: s:<session id>, u:<user id>, j:<access-token jti>. The WHEN
-- clauses keep the function call off the rows that need no notification.

-- TG_ARGV[0]: the payload's prefix; the row's id follows it.
CREATE FUNCTION notify_credentials_of_old_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('gatehouse_credentials', TG_ARGV[0] || OLD.id);
  RETURN NULL;
END;
$$;

-- Any change to a session but the once-a-minute last_seen_at touch.
CREATE TRIGGER sessions_notify_credentials_update
  AFTER UPDATE ON sessions
  FOR EACH ROW
  WHEN (to_jsonb(OLD) - 'last_seen_at' IS DISTINCT FROM to_jsonb(NEW) - 'last_seen_at')
  EXECUTE FUNCTION notify_credentials_of_old_row('s:');

-- Deleting a session that was neither revoked (revoking notified) nor past
-- its absolute expiry (a cached copy checks that itself), so that cleanup's
-- batches of dead sessions stay quiet.
CREATE TRIGGER sessions_notify_credentials_delete
  AFTER DELETE ON sessions
  FOR EACH ROW
  WHEN (OLD.revoked_at IS NULL AND OLD.expires_at > now())
  EXECUTE FUNCTION notify_credentials_of_old_row('s:');

-- Any change to a user (status, role, approval, name, email, tokens cut-off,
-- lock, password, sign-in time) but the failed-attempt counter (an attack on
-- one account must not flood every replica) and updated_at, which changes
-- always; and any deletion.
CREATE TRIGGER users_notify_credentials_update
  AFTER UPDATE ON users
  FOR EACH ROW
  WHEN (to_jsonb(OLD) - '{updated_at,failed_login_attempts}'::text[]
        IS DISTINCT FROM to_jsonb(NEW) - '{updated_at,failed_login_attempts}'::text[])
  EXECUTE FUNCTION notify_credentials_of_old_row('u:');

CREATE TRIGGER users_notify_credentials_delete
  AFTER DELETE ON users
  FOR EACH ROW
  EXECUTE FUNCTION notify_credentials_of_old_row('u:');

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
DROP TRIGGER users_notify_credentials_delete ON users;
DROP TRIGGER users_notify_credentials_update ON users;
DROP TRIGGER sessions_notify_credentials_delete ON sessions;
DROP TRIGGER sessions_notify_credentials_update ON sessions;
DROP FUNCTION notify_credentials_of_old_row();
