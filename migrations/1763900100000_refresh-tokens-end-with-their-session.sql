-- Up Migration

-- A refresh-token family is bound to the session (device) it was issued to:
-- revoking the session, by whatever path (sign-out, device list, password
-- change, an administrator), must end the family in the same transaction, or
-- a "signed out" device could keep minting access tokens. A trigger keeps
-- that true for every UPDATE, including code written after this one.
CREATE FUNCTION sessions_revoke_refresh_tokens() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE refresh_tokens SET revoked_at = NEW.revoked_at
  WHERE session_id = NEW.id AND revoked_at IS NULL;
  RETURN NULL;
END;
$$;

CREATE TRIGGER sessions_revoke_refresh_tokens
  AFTER UPDATE OF revoked_at ON sessions
  FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
  EXECUTE FUNCTION sessions_revoke_refresh_tokens();

-- Down Migration

DROP TRIGGER sessions_revoke_refresh_tokens ON sessions;
DROP FUNCTION sessions_revoke_refresh_tokens();
