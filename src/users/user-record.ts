import type { CommonQueryMethods } from "slonik";
import {
  type Arrival,
  type AuditEvent,
  findArrivalOfUser,
  listAuditEventsOfUser,
} from "../../sql/audit-events.ts";
import { type LinkedAccount, listLinkedAccountsOfUser } from "../../sql/oauth-accounts.ts";
import { listLiveSessionsOfUser, listSessionsOfUser, type Session } from "../../sql/sessions.ts";
import { findUserById, type User } from "../../sql/users.ts";
import { secondFactorStatus } from "../mfa/second-factor-status.ts";
import { adminUserView, type SecondFactorsView, secondFactorsView } from "./user-list.ts";

// What is read about one user to show them: their linked providers (to
// themselves and to an administrator), and the record an administrator opens.

/** A linked provider account, without its tokens or provider-side id. */
export function linkedAccountView(account: LinkedAccount) {
  return {
    provider: account.provider,
    email: account.email,
    email_verified: account.email_verified,
    created_at: account.created_at.toISOString(),
  };
}

export async function linkedAccountsOf(db: CommonQueryMethods, userId: string) {
  return (await listLinkedAccountsOfUser(db, userId)).map(linkedAccountView);
}

/** GET /admin/users/:id: the user, their providers and live sessions; null when no such user. */
export async function adminUserDetail(db: CommonQueryMethods, userId: string) {
  const user = await findUserById(db, userId);
  if (!user) return null;
  const [accounts, sessions, factors] = await Promise.all([
    linkedAccountsOf(db, userId),
    listLiveSessionsOfUser(db, userId),
    secondFactorStatus(db, userId),
  ]);
  return {
    user: adminUserView(user),
    second_factors: secondFactorsView({
      totp_enabled: factors.totp.enabled,
      recovery_codes_left: factors.recovery_codes_left,
      passkeys: factors.passkeys,
    }),
    linked_accounts: accounts,
    sessions: sessions.map((s) => ({
      id: s.id,
      created_at: s.created_at.toISOString(),
      last_seen_at: s.last_seen_at.toISOString(),
      expires_at: s.expires_at.toISOString(),
      ip: s.ip,
      user_agent: s.user_agent,
    })),
  };
}

export type UserRecord = {
  user: User;
  accounts: readonly LinkedAccount[];
  /** The latest sessions, ended ones included. */
  sessions: readonly Session[];
  /** The latest events about the user. */
  events: readonly AuditEvent[];
  secondFactors: SecondFactorsView;
  /** How the account was created (its creating audit event, when kept). */
  arrival: Arrival;
};

/** The admin page's view of one user; null when no such user. */
export async function userRecord(
  db: CommonQueryMethods,
  userId: string,
): Promise<UserRecord | null> {
  const user = await findUserById(db, userId);
  if (!user) return null;
  const [accounts, sessions, events, factors, arrival] = await Promise.all([
    listLinkedAccountsOfUser(db, userId),
    listSessionsOfUser(db, userId, 50),
    listAuditEventsOfUser(db, userId, 100),
    secondFactorStatus(db, userId),
    findArrivalOfUser(db, userId),
  ]);
  const secondFactors = secondFactorsView({
    totp_enabled: factors.totp.enabled,
    recovery_codes_left: factors.recovery_codes_left,
    passkeys: factors.passkeys,
  });
  return { user, accounts, sessions, events, secondFactors, arrival };
}
