-- Up Migration

-- Relying parties: the apps that sign their users in with Gatehouse over
-- OpenID Connect. The client_id is the row's id. A confidential client's
-- secret is 256 random bits, so its SHA-256 is enough (nothing to
-- brute-force, unlike a password); a public client has none and must use
-- PKCE. previous_secret_hash keeps a rotated secret valid until
-- previous_secret_expires_at, so a client's replicas can be updated one by one.
-- Redirect URIs are matched exactly, never by prefix (an open redirector on
-- the client's host would otherwise receive codes).
CREATE TABLE oauth_clients (
  id                          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name                        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  redirect_uris               text[] NOT NULL CHECK (cardinality(redirect_uris) BETWEEN 1 AND 20),
  post_logout_redirect_uris   text[] NOT NULL DEFAULT '{}'
                                CHECK (cardinality(post_logout_redirect_uris) <= 20),
  confidential                boolean NOT NULL,
  first_party                 boolean NOT NULL DEFAULT false,
  allowed_scopes              text[] NOT NULL,
  secret_hash                 bytea CHECK (octet_length(secret_hash) = 32),
  previous_secret_hash        bytea CHECK (octet_length(previous_secret_hash) = 32),
  previous_secret_expires_at  timestamptz,
  created_at                  timestamptz NOT NULL DEFAULT now(),
  CHECK (confidential = (secret_hash IS NOT NULL)),
  CHECK ((previous_secret_hash IS NULL) = (previous_secret_expires_at IS NULL))
);

-- Authorization codes: 256 random bits stored as SHA-256, 60 seconds, single
-- use. used_at is set by the one conditional UPDATE that redeems a code;
-- issued_session_id is the token session that redemption opened, so a second
-- redemption (a stolen code replayed) can revoke what the first one issued
-- (RFC 6749 §4.1.2).
CREATE TABLE oauth_authorization_codes (
  id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  code_hash             bytea NOT NULL UNIQUE CHECK (octet_length(code_hash) = 32),
  client_id             uuid NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
  user_id               uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  redirect_uri          text NOT NULL,
  scopes                text[] NOT NULL,
  nonce                 text CHECK (nonce IS NULL OR length(nonce) <= 512),
  code_challenge        text CHECK (code_challenge IS NULL OR code_challenge ~ '^[A-Za-z0-9_-]{43}$'),
  auth_time             timestamptz NOT NULL,
  amr                   text[] NOT NULL DEFAULT '{}',
  created_at            timestamptz NOT NULL DEFAULT now(),
  expires_at            timestamptz NOT NULL,
  used_at               timestamptz,
  issued_session_id     uuid REFERENCES sessions (id) ON DELETE SET NULL
);

CREATE INDEX oauth_authorization_codes_expires_at_idx ON oauth_authorization_codes (expires_at);

-- A relying party's tokens hang off a session of their own (like a token
-- client's: listed, revoked with the user's others, ended by deactivation or
-- deletion); client_id names the client, and removing the client ends them.
ALTER TABLE sessions
  ADD COLUMN client_id uuid REFERENCES oauth_clients (id) ON DELETE CASCADE;
CREATE INDEX sessions_client_id_idx ON sessions (client_id) WHERE client_id IS NOT NULL;

-- A relying party's refresh tokens live in the same table as our own token
-- clients', with the same rotation and reuse detection; client_id says whose
-- they are (NULL: Gatehouse's own /auth/token), so neither endpoint redeems
-- the other's, and scopes what the refreshed tokens may carry.
ALTER TABLE refresh_tokens
  ADD COLUMN client_id uuid REFERENCES oauth_clients (id) ON DELETE CASCADE,
  ADD COLUMN scopes text[];

-- What a user allowed a client that is not first-party to know (its
-- scopes), asked once: a later request for no more than these is not asked
-- again.
CREATE TABLE oauth_consents (
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  client_id   uuid NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
  scopes      text[] NOT NULL,
  granted_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, client_id)
);

-- Down Migration

DROP TABLE oauth_consents;
ALTER TABLE refresh_tokens DROP COLUMN scopes, DROP COLUMN client_id;
ALTER TABLE sessions DROP COLUMN client_id;
DROP TABLE oauth_authorization_codes;
DROP TABLE oauth_clients;
