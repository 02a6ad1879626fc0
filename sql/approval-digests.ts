import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";

// When each administrator was last mailed about the approval queue, and the
// queue as a digest lists it.

export const claimedAdminRow = z.object({ admin_id: z.uuid(), email: z.string() });
export type ClaimedAdmin = z.infer<typeof claimedAdminRow>;

/**
 * The usable administrators (with an address) due a digest, marked as mailed
 * now: those not mailed within `intervalMs` for whom someone joined the queue
 * since their last digest. One statement, so of replicas running it at once
 * the first to write an administrator's row takes them; the others, waiting
 * on that row, find it too recent and skip them.
 */
export async function claimDueDigests(
  db: CommonQueryMethods,
  intervalMs: number,
): Promise<readonly ClaimedAdmin[]> {
  const interval = sql.fragment`make_interval(secs => ${intervalMs / 1000}::float8)`;
  return db.any(sql.type(claimedAdminRow)`
    WITH claimed AS (
      INSERT INTO approval_digests (admin_id, last_sent_at)
      SELECT u.id, now() FROM users u
      LEFT JOIN approval_digests d ON d.admin_id = u.id
      WHERE u.role = 'admin' AND u.status = 'active' AND u.is_whitelisted AND u.email IS NOT NULL
        AND (d.last_sent_at IS NULL OR d.last_sent_at <= now() - ${interval})
        AND EXISTS (SELECT 1 FROM users p
                    WHERE NOT p.is_whitelisted AND p.status = 'active'
                      AND p.created_at > coalesce(d.last_sent_at, '-infinity'))
      ON CONFLICT (admin_id) DO UPDATE SET last_sent_at = excluded.last_sent_at
        WHERE approval_digests.last_sent_at <= excluded.last_sent_at - ${interval}
      RETURNING admin_id
    )
    SELECT c.admin_id, u.email FROM claimed c JOIN users u ON u.id = c.admin_id
    ORDER BY c.admin_id`);
}

export const waitingUserRow = z.object({
  id: z.uuid(),
  email: z.string().nullable(),
  email_verified: z.boolean(),
  full_name: z.string().nullable(),
  username: z.string().nullable(),
  /** The provider of the first linked account, or null: signed up with a password. */
  provider: z.string().nullable(),
  created_at: z.date(),
});
export type WaitingUser = z.infer<typeof waitingUserRow>;

/** The oldest users waiting for approval, with how they signed up. */
export async function listWaitingUsers(
  db: CommonQueryMethods,
  limit: number,
): Promise<readonly WaitingUser[]> {
  return db.any(sql.type(waitingUserRow)`
    SELECT u.id, u.email, u.email_verified, u.full_name, u.username,
      (SELECT o.provider FROM oauth_accounts o WHERE o.user_id = u.id
       ORDER BY o.created_at LIMIT 1) AS provider,
      u.created_at
    FROM users u
    WHERE NOT u.is_whitelisted AND u.status = 'active'
    ORDER BY u.created_at
    LIMIT ${limit}`);
}
