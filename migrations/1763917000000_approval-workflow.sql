-- Up Migration

-- An administrator turned the user away (with a reason, kept in the audit
-- trail and mailed to them). The row stays, so the address cannot sign up
-- again into the queue; an administrator can reverse it.
ALTER TABLE users DROP CONSTRAINT users_status_check;
ALTER TABLE users ADD CONSTRAINT users_status_check
  CHECK (status IN ('active', 'inactive', 'locked', 'denied', 'deleted'));

-- When each administrator was last mailed about the approval queue: every
-- replica may try to send a digest, and the one conditional upsert that moves
-- last_sent_at decides which of them sends it.
CREATE TABLE approval_digests (
  admin_id     uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  last_sent_at timestamptz NOT NULL
);

-- Down Migration

DROP TABLE approval_digests;
UPDATE users SET status = 'inactive' WHERE status = 'denied';
ALTER TABLE users DROP CONSTRAINT users_status_check;
ALTER TABLE users ADD CONSTRAINT users_status_check
  CHECK (status IN ('active', 'inactive', 'locked', 'deleted'));
