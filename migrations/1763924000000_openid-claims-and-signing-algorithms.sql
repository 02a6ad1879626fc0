-- Up Migration

-- How a relying party wants its ID tokens signed (RFC 7591
-- id_token_signed_response_alg): RS256, the one every relying party must
-- accept (OpenID Connect Core §15.1), or the access-token keys' EdDSA or
-- ES256. Which of them a deployment offers depends on its keys; the
-- application checks that at registration, the database only the names.
ALTER TABLE oauth_clients
  ADD COLUMN id_token_signed_response_alg text NOT NULL DEFAULT 'RS256'
    CHECK (id_token_signed_response_alg IN ('RS256', 'EdDSA', 'ES256'));

-- What an authorization request asked for beyond its scopes (OpenID Connect
-- Core §5.5 claims parameter, and acr_values): the claims it named for the
-- ID token and for userinfo, and the acr the sign-in met. Carried from the
-- code to the relying party's session, so a refreshed ID token and userinfo
-- answer the same. NULL: nothing beyond the scopes was asked.
ALTER TABLE oauth_authorization_codes ADD COLUMN claims jsonb;
ALTER TABLE sessions ADD COLUMN client_claims jsonb;

-- Down Migration

ALTER TABLE sessions DROP COLUMN client_claims;
ALTER TABLE oauth_authorization_codes DROP COLUMN claims;
ALTER TABLE oauth_clients DROP COLUMN id_token_signed_response_alg;
