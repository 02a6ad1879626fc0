-- Up Migration

-- When the session's user last proved who they are: the full sign-in that
-- made it, or a later step-up (POST /auth/reauth). Sensitive changes need it
-- within REAUTH_MAX_AGE. Left NULL for sessions from before this column (the
-- code reads created_at for them): filling it in would rewrite, and notify
-- every replica about, every session row.
ALTER TABLE sessions ADD COLUMN authenticated_at timestamptz;
ALTER TABLE sessions ALTER COLUMN authenticated_at SET DEFAULT now();

-- A pending sign-in of a user whom MFA_REQUIRED covers and who has no
-- second factor yet: it is good only for enrolling one (and finishing the
-- sign-in with it), never for giving a code.
ALTER TABLE pending_sign_ins ADD COLUMN enrolment boolean NOT NULL DEFAULT false;

-- Down Migration

ALTER TABLE pending_sign_ins DROP COLUMN enrolment;
ALTER TABLE sessions DROP COLUMN authenticated_at;
