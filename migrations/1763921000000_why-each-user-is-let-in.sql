-- Up Migration

-- Why each approved user is let in, so that rules can take back what rules
-- gave and nothing else:
--   approval_decided_at set          an administrator decided (by hand);
--                                    rules never touch the user;
--   approved_by_rule_id set          the allowlist rule that approved them;
--   neither                          ADMIN_EMAILS, or approved before this
--                                    was recorded: rules leave them alone.
-- approved_at says when the user was last let in, approval_decided_by which
-- administrator decided (NULL: the command line, or not recorded).
ALTER TABLE users
  ADD COLUMN approved_at timestamptz,
  ADD COLUMN approved_by_rule_id uuid REFERENCES allowlist_rules (id) ON DELETE SET NULL,
  ADD COLUMN approval_decided_by uuid REFERENCES users (id) ON DELETE SET NULL;

-- Rule deletion finds the users a rule let in by this.
CREATE INDEX users_approved_by_rule_idx ON users (approved_by_rule_id)
  WHERE approved_by_rule_id IS NOT NULL;

-- approved_at follows is_whitelisted whoever writes it (a sign-in, an
-- administrator, the CLI, a seed): losing approval also forgets the rule.
CREATE FUNCTION users_track_approval() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT NEW.is_whitelisted THEN
    NEW.approved_at := NULL;
    NEW.approved_by_rule_id := NULL;
  ELSIF TG_OP = 'INSERT' OR NOT OLD.is_whitelisted THEN
    NEW.approved_at := now();
  END IF;
  RETURN NEW;
END;
$$;

CREATE TRIGGER users_track_approval
  BEFORE INSERT OR UPDATE OF is_whitelisted ON users
  FOR EACH ROW EXECUTE FUNCTION users_track_approval();

-- The GitHub organisations and teams (org/team-slug, lower case) last read
-- with the person's token: at sign-in when a rule asked about them, and by
-- the scheduled re-check. NULL: not read. Deleting one GitHub rule keeps the
-- users another GitHub rule still covers by what was read here.
ALTER TABLE oauth_accounts
  ADD COLUMN github_orgs text[],
  ADD COLUMN github_teams text[],
  ADD COLUMN memberships_checked_at timestamptz;

-- Backfill. Who decided an approval: the last administrator's change of it
-- in the audit trail (as far back as its retention reaches).
UPDATE users u SET approval_decided_by = d.actor_id
FROM (
  SELECT DISTINCT ON (user_id) user_id, actor_id
  FROM audit_events
  WHERE event_type = 'admin.user_updated' AND result = 'success' AND context ? 'is_whitelisted'
    AND user_id IS NOT NULL
  ORDER BY user_id, occurred_at DESC
) d
WHERE d.user_id = u.id AND u.approval_decided_at IS NOT NULL
  AND EXISTS (SELECT 1 FROM users a WHERE a.id = d.actor_id);

-- Which rule approved a user no administrator decided on: the rule the audit
-- trail names (`allowlist_rule: kind:value`) when it still exists...
UPDATE users u SET approved_by_rule_id = r.id, approved_at = a.occurred_at
FROM (
  SELECT DISTINCT ON (user_id) user_id, occurred_at, context ->> 'allowlist_rule' AS rule
  FROM audit_events
  WHERE event_type IN ('account.auto_approved', 'user.created') AND result = 'success'
    AND context ? 'allowlist_rule' AND user_id IS NOT NULL
  ORDER BY user_id, occurred_at DESC
) a
JOIN allowlist_rules r ON r.kind || ':' || r.value = a.rule
WHERE a.user_id = u.id AND u.is_whitelisted AND u.approval_decided_at IS NULL
  AND u.status <> 'deleted';

-- ...else an email or domain rule the verified address matches now. GitHub
-- memberships were not stored before: such users stay unattributed, and so
-- untouched by rules.
UPDATE users u SET approved_by_rule_id = (
  SELECT r.id FROM allowlist_rules r
  WHERE (r.kind = 'email' AND r.value = lower(u.email::text))
     OR (r.kind = 'domain' AND r.value = substring(lower(u.email::text) FROM '@([^@]*)$'))
  ORDER BY r.kind, r.value LIMIT 1)
WHERE u.is_whitelisted AND u.approval_decided_at IS NULL AND u.approved_by_rule_id IS NULL
  AND u.email_verified AND u.email IS NOT NULL AND u.status <> 'deleted';

UPDATE users SET approved_at = approval_decided_at
WHERE is_whitelisted AND approved_at IS NULL AND approval_decided_at IS NOT NULL;

-- Down Migration

ALTER TABLE oauth_accounts
  DROP COLUMN github_orgs, DROP COLUMN github_teams, DROP COLUMN memberships_checked_at;
DROP TRIGGER users_track_approval ON users;
DROP FUNCTION users_track_approval();
ALTER TABLE users
  DROP COLUMN approved_at, DROP COLUMN approved_by_rule_id, DROP COLUMN approval_decided_by;
