-- Up Migration

-- A user's TOTP authenticator (RFC 6238). The secret is sealed with the
-- provider-token cipher, bound to this table, the user id and the column
-- (src/mfa/totp-secrets.ts), so `gatehouse rotate-keys` re-encrypts it and a
-- secret copied to another user's row does not open. The factor counts only
-- once confirmed with a first code. last_used_step is the last accepted
-- 30-second step: a code is accepted only for a later step, so a used code
-- cannot be replayed within its window.
CREATE TABLE mfa_totp (
  user_id        uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  secret         text NOT NULL
                 CHECK (secret ~ '^v2\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$'),
  created_at     timestamptz NOT NULL DEFAULT now(),
  confirmed_at   timestamptz,
  last_used_step bigint CHECK (last_used_step IS NULL OR last_used_step >= 0)
);

-- Single-use recovery codes: only their SHA-256 (with the user id) is kept.
CREATE TABLE mfa_recovery_codes (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  code_hash  bytea NOT NULL CHECK (octet_length(code_hash) = 32),
  created_at timestamptz NOT NULL DEFAULT now(),
  used_at    timestamptz,
  UNIQUE (user_id, code_hash)
);

-- A sign-in whose first factor was proved and whose second factor is still
-- owed: good for finishing that one sign-in through the same door, once, for
-- a few minutes. Only the SHA-256 of its secret is stored.
CREATE TABLE pending_sign_ins (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  secret_hash bytea NOT NULL UNIQUE CHECK (octet_length(secret_hash) = 32),
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  method      text NOT NULL CHECK (length(method) BETWEEN 1 AND 64),
  door        text NOT NULL CHECK (door IN ('browser', 'token')),
  -- What the first factor asserted (the grants read it at completion) and
  -- the facts `login.succeeded` will carry.
  identity    jsonb,
  context     jsonb NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  CHECK (expires_at > created_at)
);

CREATE INDEX pending_sign_ins_user_id_idx ON pending_sign_ins (user_id);
CREATE INDEX pending_sign_ins_expires_at_idx ON pending_sign_ins (expires_at);

-- Down Migration

DROP TABLE pending_sign_ins;
DROP TABLE mfa_recovery_codes;
DROP TABLE mfa_totp;
