-- Up Migration

-- Where a relying party hears that its user signed out (OpenID Connect
-- Back-Channel Logout 1.0 backchannel_logout_uri): registered by an
-- administrator, like its redirect URIs. NULL: it is not told.
ALTER TABLE oauth_clients
  ADD COLUMN backchannel_logout_uri text CHECK (length(backchannel_logout_uri) <= 2000);

-- Down Migration

ALTER TABLE oauth_clients DROP COLUMN backchannel_logout_uri;
