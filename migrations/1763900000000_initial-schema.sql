-- Up Migration

CREATE EXTENSION IF NOT EXISTS citext;

CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END;
$$;

-- users ---------------------------------------------------------------------

CREATE TABLE users (
  id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email                 citext UNIQUE
                        CHECK (email IS NULL OR (length(email) <= 254 AND email ~ '^[^@\s]+@[^@\s]+$')),
  email_verified        boolean NOT NULL DEFAULT false,
  username              citext UNIQUE CHECK (username IS NULL OR username ~ '^[A-Za-z0-9_.-]{1,64}$'),
  full_name             text CHECK (full_name IS NULL OR length(full_name) <= 200),
  avatar_url            text CHECK (avatar_url IS NULL OR (length(avatar_url) <= 2048 AND avatar_url ~ '^https?://')),
  password_hash         text CHECK (password_hash IS NULL OR password_hash LIKE '$argon2id$%'),
  role                  text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
  status                text NOT NULL DEFAULT 'active'
                        CHECK (status IN ('active', 'inactive', 'locked', 'deleted')),
  is_whitelisted        boolean NOT NULL DEFAULT false,
  failed_login_attempts integer NOT NULL DEFAULT 0 CHECK (failed_login_attempts >= 0),
  lockout_count         integer NOT NULL DEFAULT 0 CHECK (lockout_count >= 0),
  locked_until          timestamptz,
  last_login_at         timestamptz,
  password_changed_at   timestamptz,
  -- Access tokens issued before this instant are refused (deactivation, lock,
  -- password reset), without a deny-list row per token.
  tokens_valid_after    timestamptz,
  consent_at            timestamptz,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  -- An anonymised (deleted) user keeps no email or credentials.
  CONSTRAINT users_deleted_are_anonymous
    CHECK (status <> 'deleted' OR (email IS NULL AND password_hash IS NULL))
);

CREATE INDEX users_created_at_id_idx ON users (created_at, id);
CREATE INDEX users_pending_idx ON users (created_at) WHERE NOT is_whitelisted AND status = 'active';

CREATE TRIGGER users_set_updated_at BEFORE UPDATE ON users
  FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- oauth_accounts --------------------------------------------------------------

CREATE TABLE oauth_accounts (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id          uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  provider         text NOT NULL CHECK (provider IN
                     ('github', 'google', 'discord', 'facebook', 'linkedin', 'x', 'twitch', 'msentra', 'oidc')),
  provider_user_id text NOT NULL CHECK (length(provider_user_id) BETWEEN 1 AND 255),
  email            citext,
  email_verified   boolean NOT NULL DEFAULT false,
  -- Ciphertexts only: v1.<key id>.<iv>.<AES-256-GCM ciphertext>, never a raw token.
  access_token     text CHECK (access_token IS NULL OR access_token ~ '^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$'),
  refresh_token    text CHECK (refresh_token IS NULL OR refresh_token ~ '^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$'),
  token_type       text,
  scope            text,
  expires_at       timestamptz,
  revoked_at       timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (provider, provider_user_id),
  UNIQUE (provider, user_id)
);

CREATE INDEX oauth_accounts_user_id_idx ON oauth_accounts (user_id);

CREATE TRIGGER oauth_accounts_set_updated_at BEFORE UPDATE ON oauth_accounts
  FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- A live user can always sign in somehow: a password or a linked account.
-- Checked at commit (deferred), so a user and its first account can be
-- written in one transaction in either order.
CREATE FUNCTION assert_user_has_a_sign_in_method(checked_user uuid) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (
    SELECT 1 FROM users u
    WHERE u.id = checked_user
      AND u.status <> 'deleted'
      AND u.password_hash IS NULL
      AND NOT EXISTS (SELECT 1 FROM oauth_accounts a WHERE a.user_id = u.id)
  ) THEN
    RAISE EXCEPTION 'user % has neither a password nor a linked account', checked_user
      USING ERRCODE = 'check_violation', CONSTRAINT = 'users_have_a_sign_in_method';
  END IF;
END;
$$;

CREATE FUNCTION users_have_a_sign_in_method() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM assert_user_has_a_sign_in_method(NEW.id);
  RETURN NULL;
END;
$$;

CREATE FUNCTION oauth_accounts_leave_a_sign_in_method() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM assert_user_has_a_sign_in_method(OLD.user_id);
  RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER users_have_a_sign_in_method
  AFTER INSERT OR UPDATE OF password_hash, status ON users
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION users_have_a_sign_in_method();

CREATE CONSTRAINT TRIGGER oauth_accounts_leave_a_sign_in_method
  AFTER DELETE OR UPDATE OF user_id ON oauth_accounts
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION oauth_accounts_leave_a_sign_in_method();

-- sessions ------------------------------------------------------------------

CREATE TABLE sessions (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- SHA-256 of the cookie secret; the secret itself is never stored.
  token_hash     bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
  user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at     timestamptz NOT NULL DEFAULT now(),
  last_seen_at   timestamptz NOT NULL DEFAULT now(),
  expires_at     timestamptz NOT NULL,
  idle_timeout   interval NOT NULL,
  ip             inet,
  user_agent     text CHECK (user_agent IS NULL OR length(user_agent) <= 512),
  revoked_at     timestamptz,
  revoked_reason text,
  CHECK (expires_at > created_at)
);

CREATE INDEX sessions_user_id_idx ON sessions (user_id) WHERE revoked_at IS NULL;
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

-- refresh_tokens ------------------------------------------------------------

CREATE TABLE refresh_tokens (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  token_hash  bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
  family_id   uuid NOT NULL,
  parent_id   uuid REFERENCES refresh_tokens (id) ON DELETE SET NULL,
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  session_id  uuid REFERENCES sessions (id) ON DELETE CASCADE,
  issued_at   timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  revoked_at  timestamptz,
  device_info text CHECK (device_info IS NULL OR length(device_info) <= 512),
  CHECK (expires_at > issued_at)
);

CREATE INDEX refresh_tokens_family_id_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_id_idx ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_session_id_idx ON refresh_tokens (session_id);
CREATE INDEX refresh_tokens_parent_id_idx ON refresh_tokens (parent_id);
CREATE INDEX refresh_tokens_expires_at_idx ON refresh_tokens (expires_at);

-- revoked_access_tokens (the deny-list) ---------------------------------------

CREATE TABLE revoked_access_tokens (
  jti        text PRIMARY KEY CHECK (length(jti) BETWEEN 1 AND 128),
  user_id    uuid,
  revoked_at timestamptz NOT NULL DEFAULT now(),
  -- The token's own expiry: after it the row is useless and cleanup drops it.
  expires_at timestamptz NOT NULL
);

CREATE INDEX revoked_access_tokens_expires_at_idx ON revoked_access_tokens (expires_at);

-- verification_tokens -------------------------------------------------------

CREATE TABLE verification_tokens (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  token_hash bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  purpose    text NOT NULL CHECK (purpose IN ('email_verification', 'password_reset')),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at    timestamptz,
  CHECK (expires_at > created_at)
);

CREATE INDEX verification_tokens_user_purpose_idx ON verification_tokens (user_id, purpose);
CREATE INDEX verification_tokens_expires_at_idx ON verification_tokens (expires_at);

-- allowlist_rules -----------------------------------------------------------

CREATE TABLE allowlist_rules (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  kind       text NOT NULL CHECK (kind IN ('email', 'domain', 'github_org', 'github_team')),
  -- Stored lower-case so matching is a plain equality.
  value      text NOT NULL CHECK (value = lower(value) AND length(value) BETWEEN 1 AND 254),
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (kind, value),
  CHECK (kind <> 'email' OR value ~ '^[^@\s]+@[^@\s]+$'),
  CHECK (kind <> 'domain' OR value ~ '^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$'),
  CHECK (kind <> 'github_org' OR value ~ '^[a-z0-9]([a-z0-9-]{0,38})$'),
  CHECK (kind <> 'github_team' OR value ~ '^[a-z0-9]([a-z0-9-]{0,38})/[a-z0-9_.-]{1,100}$')
);

-- audit_events (partitioned by month) -----------------------------------------

CREATE TABLE audit_events (
  id             uuid NOT NULL DEFAULT gen_random_uuid(),
  occurred_at    timestamptz NOT NULL DEFAULT now(),
  event_type     text NOT NULL CHECK (event_type ~ '^[a-z_]+(\.[a-z_]+)*$'),
  result         text NOT NULL CHECK (result IN ('success', 'failure')),
  -- Plain values, not foreign keys: audit rows outlive the users they name.
  user_id        uuid,
  actor_id       uuid,
  ip             inet,
  user_agent     text CHECK (user_agent IS NULL OR length(user_agent) <= 512),
  failure_reason text CHECK (failure_reason IS NULL OR length(failure_reason) <= 200),
  context        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(context) = 'object'),
  PRIMARY KEY (occurred_at, id)
) PARTITION BY RANGE (occurred_at);

CREATE INDEX audit_events_user_idx ON audit_events (user_id, occurred_at DESC);
CREATE INDEX audit_events_type_idx ON audit_events (event_type, occurred_at DESC);

CREATE TABLE audit_events_default PARTITION OF audit_events DEFAULT;

-- Creates the monthly partitions from the current month to months_ahead
-- months later; idempotent, called here and by the cleanup job.
CREATE FUNCTION ensure_audit_partitions(months_ahead integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  month_start date := date_trunc('month', now() AT TIME ZONE 'UTC')::date;
  partition_name text;
  created integer := 0;
BEGIN
  FOR i IN 0..months_ahead LOOP
    partition_name := format('audit_events_y%sm%s',
      to_char(month_start, 'YYYY'), to_char(month_start, 'MM'));
    IF to_regclass(partition_name) IS NULL THEN
      EXECUTE format(
        'CREATE TABLE %I PARTITION OF audit_events FOR VALUES FROM (%L) TO (%L)',
        partition_name,
        (month_start::timestamp AT TIME ZONE 'UTC'),
        ((month_start + interval '1 month')::timestamp AT TIME ZONE 'UTC'));
      created := created + 1;
    END IF;
    month_start := (month_start + interval '1 month')::date;
  END LOOP;
  RETURN created;
END;
$$;

SELECT ensure_audit_partitions(3);

-- rate-limit counters ---------------------------------------------------------

-- UNLOGGED: counters are cheap to lose in a crash and hot to write, so they
-- skip the WAL. Shared by every replica.
CREATE UNLOGGED TABLE rate_limit_counters (
  key            text PRIMARY KEY CHECK (length(key) <= 300),
  hits           integer NOT NULL CHECK (hits >= 0),
  window_ends_at timestamptz NOT NULL
);

CREATE INDEX rate_limit_counters_window_ends_at_idx ON rate_limit_counters (window_ends_at);

-- Down Migration

DROP TABLE rate_limit_counters;
DROP FUNCTION ensure_audit_partitions(integer);
DROP TABLE audit_events;
DROP TABLE allowlist_rules;
DROP TABLE verification_tokens;
DROP TABLE revoked_access_tokens;
DROP TABLE refresh_tokens;
DROP TABLE sessions;
DROP TABLE oauth_accounts;
DROP TABLE users;
DROP FUNCTION oauth_accounts_leave_a_sign_in_method();
DROP FUNCTION users_have_a_sign_in_method();
DROP FUNCTION assert_user_has_a_sign_in_method(uuid);
DROP FUNCTION set_updated_at();
DROP EXTENSION IF EXISTS citext;
