-- Up Migration

-- Email sign-in codes live beside the other secrets mailed to prove a
-- mailbox: a six-digit code is one more purpose of verification_tokens
-- (its SHA-256 with the user id; cleanup, backups and account deletion
-- already cover the table). A code allows a few wrong tries, counted here;
-- the last one kills it.
ALTER TABLE verification_tokens
  DROP CONSTRAINT verification_tokens_purpose_check,
  ADD CONSTRAINT verification_tokens_purpose_check
    CHECK (purpose IN ('email_verification', 'password_reset', 'email_sign_in')),
  ADD COLUMN failed_attempts integer NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0);

-- One sign-in code per user: a new one replaces the row (INSERT ... ON
-- CONFLICT), so an older code stops working the moment a new one is made,
-- even when two requests race.
CREATE UNIQUE INDEX verification_tokens_one_sign_in_code_idx
  ON verification_tokens (user_id) WHERE purpose = 'email_sign_in';

-- Down Migration

DROP INDEX verification_tokens_one_sign_in_code_idx;
DELETE FROM verification_tokens WHERE purpose = 'email_sign_in';
ALTER TABLE verification_tokens
  DROP COLUMN failed_attempts,
  DROP CONSTRAINT verification_tokens_purpose_check,
  ADD CONSTRAINT verification_tokens_purpose_check
    CHECK (purpose IN ('email_verification', 'password_reset'));
