-- Up Migration

-- A sign-in grants some rights by itself: approval by an allowlist rule,
-- the admin role for an ADMIN_EMAILS address. An administrator's decision
-- on the same right (a demotion, a denial, an approval) must outrank it, or
-- the next sign-in undoes the decision. These columns say when an
-- administrator (API, admin page or CLI) last set the user's role and
-- approval; a sign-in leaves a right that has one alone. NULL: never decided,
-- the sign-in grants apply.
ALTER TABLE users
  ADD COLUMN role_decided_at timestamptz,
  ADD COLUMN approval_decided_at timestamptz;

-- Decisions taken before this migration are in the audit trail (as far back
-- as its retention reaches): a demotion made then must stick as well.
UPDATE users u SET
  role_decided_at = d.role_at,
  approval_decided_at = d.approval_at
FROM (
  SELECT user_id,
    max(occurred_at) FILTER (WHERE context ? 'role') AS role_at,
    max(occurred_at) FILTER (WHERE context ? 'is_whitelisted') AS approval_at
  FROM audit_events
  WHERE event_type = 'admin.user_updated' AND result = 'success' AND user_id IS NOT NULL
  GROUP BY user_id
) d
WHERE d.user_id = u.id AND (d.role_at IS NOT NULL OR d.approval_at IS NOT NULL);

-- Down Migration

ALTER TABLE users DROP COLUMN role_decided_at, DROP COLUMN approval_decided_at;
