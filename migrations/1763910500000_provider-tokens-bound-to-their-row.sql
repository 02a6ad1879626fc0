-- Up Migration

-- Provider-token ciphertexts from now on are `v2.<kid>.<iv>.<sealed>`, sealed
-- with their row id and column as additional data (src/auth/token-encryption.ts);
-- `v1` ones written before stay readable until `gatehouse rotate-keys`
-- rewrites them.
ALTER TABLE oauth_accounts
  DROP CONSTRAINT oauth_accounts_access_token_check,
  DROP CONSTRAINT oauth_accounts_refresh_token_check,
  ADD CONSTRAINT oauth_accounts_access_token_check CHECK (
    access_token IS NULL OR access_token ~ '^v[12]\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$'),
  ADD CONSTRAINT oauth_accounts_refresh_token_check CHECK (
    refresh_token IS NULL OR refresh_token ~ '^v[12]\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$');

-- Down Migration

-- NOT VALID: rows already sealed as v2 stay (older code cannot open them, but
-- a restore of an older backup migrates down before it replaces every row).
ALTER TABLE oauth_accounts
  DROP CONSTRAINT oauth_accounts_access_token_check,
  DROP CONSTRAINT oauth_accounts_refresh_token_check,
  ADD CONSTRAINT oauth_accounts_access_token_check CHECK (
    access_token IS NULL OR access_token ~ '^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$') NOT VALID,
  ADD CONSTRAINT oauth_accounts_refresh_token_check CHECK (
    refresh_token IS NULL OR refresh_token ~ '^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$') NOT VALID;
