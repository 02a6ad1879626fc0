-- Up Migration

-- A user's passkeys (WebAuthn credentials). Only the public key is kept: a
-- leaked table lets nobody sign in. credential_id is what the authenticator
-- names the credential by (unique across users: an assertion names its
-- credential, never its user). counter is the authenticator's signature
-- counter: an assertion must raise it (unless the authenticator keeps none
-- and always says 0), so a cloned authenticator that falls behind is caught.
-- device_type and backed_up are WebAuthn's backup-eligibility and
-- backup-state flags: a multi-device credential may be synced to other
-- devices by its provider.
CREATE TABLE passkeys (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  credential_id bytea NOT NULL UNIQUE CHECK (octet_length(credential_id) BETWEEN 1 AND 1023),
  public_key    bytea NOT NULL CHECK (octet_length(public_key) BETWEEN 1 AND 4096),
  counter       bigint NOT NULL DEFAULT 0 CHECK (counter >= 0 AND counter <= 4294967295),
  transports    text[] NOT NULL DEFAULT '{}',
  device_type   text NOT NULL CHECK (device_type IN ('singleDevice', 'multiDevice')),
  backed_up     boolean NOT NULL DEFAULT false,
  name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz
);

CREATE INDEX passkeys_user_id_idx ON passkeys (user_id);

-- WebAuthn challenges, kept on the server: each is random, short-lived and
-- single use (a successful ceremony deletes it in the statement that checks
-- it, so a replayed response finds nothing). Their own table rather than
-- the pending sign-in's row, because two of the three ceremonies have no
-- pending sign-in (registering a passkey, signing in with one); `purpose`
-- keeps a challenge issued for one ceremony from serving another, and a
-- challenge for a known user (registering, or a second factor) is bound to
-- that user. The response carries its challenge (clientDataJSON), so no
-- cookie or id has to travel with it.
--
-- UNLOGGED like the rate-limit counters: a challenge lives minutes, so after
-- a crash (which empties the table) a person just tries again, and it stays
-- out of the WAL and of backups. For the same reason user_id has no foreign
-- key: a restore truncates users, which a reference from a table outside
-- the backup would forbid; a deleted user's challenge names no passkey and
-- is swept by cleanup once expired.
CREATE UNLOGGED TABLE webauthn_challenges (
  challenge  bytea PRIMARY KEY CHECK (octet_length(challenge) = 32),
  purpose    text NOT NULL CHECK (purpose IN ('register', 'sign_in', 'second_factor')),
  user_id    uuid,
  expires_at timestamptz NOT NULL,
  CHECK ((purpose = 'sign_in') = (user_id IS NULL))
);

CREATE INDEX webauthn_challenges_user_id_idx ON webauthn_challenges (user_id);
CREATE INDEX webauthn_challenges_expires_at_idx ON webauthn_challenges (expires_at);

-- Down Migration

DROP TABLE webauthn_challenges;
DROP TABLE passkeys;
