import type { DatabasePool } from "slonik";
import { eraseAuditPersonalData } from "../../sql/audit-events.ts";
import {
  anonymiseUser,
  deleteRowsOfUser,
  deleteUser,
  type UserOwnedTable,
} from "../../sql/user-changes.ts";
import { findUserById } from "../../sql/users.ts";
import { recordAudit } from "../audit.ts";
import { DomainError, hasCode } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { guardLastAdministrator } from "./administration.ts";

export type DeletionRequest = {
  userId: string;
  /** The administrator deleting someone, or null when users delete themselves. */
  actorId: string | null;
  ip: string | null;
  userAgent: string | null;
  /** Remove the row itself instead of keeping an anonymised one. */
  hard: boolean;
};

/**
 * Deletes an account in one transaction. Soft: the user row stays, anonymised
 * (status 'deleted', no email, name, avatar or credentials), and everything
 * else about the person goes: sessions, refresh tokens, linked accounts,
 * verification tokens, second factors, passkeys and pending sign-ins. Hard: the row goes too (cascading to the same data).
 * Either way bearer tokens stop at once and audit rows stay, keeping the user
 * id and nothing else that identifies the person.
 */
export async function deleteAccount(
  { pool, logger }: { pool: DatabasePool; logger: Logger },
  request: DeletionRequest,
): Promise<void> {
  const eventType = request.actorId ? "admin.user_deleted" : "account.deleted";
  try {
    await pool.transaction(async (tx) => {
      const user = await findUserById(tx, request.userId);
      if (!user || (user.status === "deleted" && !request.hard))
        throw new DomainError("user_not_found");
      await guardLastAdministrator(tx, user);
      const credentials: UserOwnedTable[] = [
        "refresh_tokens",
        "sessions",
        "verification_tokens",
        "pending_sign_ins",
      ];
      await deleteRowsOfUser(tx, user.id, credentials);
      if (request.hard) {
        await deleteUser(tx, user.id);
      } else {
        await deleteRowsOfUser(tx, user.id, [
          "oauth_accounts",
          "mfa_totp",
          "mfa_recovery_codes",
          "passkeys",
        ]);
        await anonymiseUser(tx, user.id);
      }
      await eraseAuditPersonalData(tx, user.id);
      await recordAudit(tx, logger, {
        eventType,
        result: "success",
        userId: user.id,
        actorId: request.actorId,
        // A self-deletion keeps no address or agent; an admin's is the admin's own.
        ip: request.actorId ? request.ip : null,
        userAgent: request.actorId ? request.userAgent : null,
        context: { hard: request.hard },
      });
    });
  } catch (error) {
    if (hasCode(error, "last_admin")) {
      await recordAudit(pool, logger, {
        eventType,
        result: "failure",
        userId: request.userId,
        actorId: request.actorId,
        failureReason: "last administrator",
        context: { hard: request.hard },
      });
    }
    throw error;
  }
}
