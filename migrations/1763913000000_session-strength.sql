-- Up Migration

-- How the session's sign-in was proved (RFC 8176 method references: pwd,
-- fed, otp, ...): forward-auth says X-Auth-MFA from it, access tokens carry
-- it as `amr`. Sessions from before this migration proved one factor.
ALTER TABLE sessions ADD COLUMN amr text[] NOT NULL DEFAULT '{}';

-- Down Migration

ALTER TABLE sessions DROP COLUMN amr;
