-- Up Migration

-- An endpoint's signing secret at rest is sealed with the provider-token
-- cipher (TOKEN_ENCRYPTION_KEYS; bound to the row and this column) like
-- provider tokens and TOTP secrets: a database dump or backup no longer
-- hands out what forges deliveries to every receiver. SQL cannot seal (the
-- key is not in the database), so rows written before stay readable in
-- `secret` until the server seals them at start-up or `gatehouse
-- rotate-keys` does; sealing a row empties its `secret` in the same update.
ALTER TABLE webhook_endpoints ADD COLUMN sealed_secret text
  CHECK (sealed_secret IS NULL OR sealed_secret ~ '^v2\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$');
ALTER TABLE webhook_endpoints ALTER COLUMN secret DROP NOT NULL;
ALTER TABLE webhook_endpoints ADD CONSTRAINT webhook_endpoints_one_secret
  CHECK ((secret IS NULL) <> (sealed_secret IS NULL));

-- Down Migration

-- A sealed secret cannot be opened here: those endpoints go (with their
-- delivery logs); add them again after going back.
ALTER TABLE webhook_endpoints DROP CONSTRAINT webhook_endpoints_one_secret;
DELETE FROM webhook_endpoints WHERE secret IS NULL;
ALTER TABLE webhook_endpoints ALTER COLUMN secret SET NOT NULL;
ALTER TABLE webhook_endpoints DROP COLUMN sealed_secret;
