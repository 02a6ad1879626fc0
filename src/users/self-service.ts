import { UniqueIntegrityConstraintViolationError } from "slonik";
import { listAuditEventsAboutUser } from "../../sql/audit-events.ts";
import {
  countOAuthAccountsOfUser,
  deleteOAuthAccountOfUser,
  listLinkedAccountsOfUser,
} from "../../sql/oauth-accounts.ts";
import { listPasskeysOfUser } from "../../sql/passkeys.ts";
import { listRefreshTokensOfUser } from "../../sql/refresh-tokens.ts";
import { listSessionsOfUser } from "../../sql/sessions.ts";
import { lockUserById, type ProfileChange, updateUserProfile } from "../../sql/user-changes.ts";
import { findUserById, type User } from "../../sql/users.ts";
import { type AuditedDeps, type RequestFacts, recordAudit } from "../audit.ts";
import { DomainError } from "../errors.ts";
import { appsWithAccess, toAppView } from "../oidc/apps-with-access.ts";
import { passkeyView } from "../passkeys/registration.ts";
import { toMeResponse } from "./user-view.ts";

export async function updateProfile(
  { pool, logger }: AuditedDeps,
  userId: string,
  change: ProfileChange,
  facts: RequestFacts,
): Promise<User> {
  let user: User | null;
  try {
    user = await updateUserProfile(pool, userId, change);
  } catch (error) {
    if (error instanceof UniqueIntegrityConstraintViolationError)
      throw new DomainError("username_taken");
    throw error;
  }
  if (!user) throw new DomainError("user_not_found");
  await recordAudit(pool, logger, {
    eventType: "account.profile_updated",
    result: "success",
    userId,
    ...facts,
    // Which fields changed, not their values: the audit trail is not a copy of the profile.
    context: { fields: Object.keys(change).join(",") },
  });
  return user;
}

// The database's deferred trigger (users_have_a_sign_in_method) refuses the
// same thing at COMMIT; we check first, under a lock on the user row, so two
// concurrent unlinks of a user's last two providers cannot both pass.
export async function unlinkProvider(
  { pool, logger }: AuditedDeps,
  userId: string,
  provider: string,
  facts: RequestFacts,
): Promise<void> {
  try {
    await pool.transaction(async (tx) => {
      const user = await lockUserById(tx, userId);
      if (!user) throw new DomainError("user_not_found");
      const linked = await countOAuthAccountsOfUser(tx, userId);
      if (!(await deleteOAuthAccountOfUser(tx, userId, provider)))
        throw new DomainError("provider_not_linked", {
          detail: `No ${provider} account is linked.`,
        });
      if (user.password_hash === null && linked <= 1) throw new DomainError("last_sign_in_method");
      await recordAudit(tx, logger, {
        eventType: "account.provider_unlinked",
        result: "success",
        userId,
        ...facts,
        context: { provider },
      });
    });
  } catch (error) {
    if (isSignInMethodViolation(error)) throw new DomainError("last_sign_in_method");
    throw error;
  }
}

function isSignInMethodViolation(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const found = e as Error & { code?: string; constraint?: string };
    if (found.code === "23514" && found.constraint === "users_have_a_sign_in_method") return true;
  }
  return false;
}

/**
 * Everything held about the user, for GDPR access requests: profile, linked
 * accounts (never their tokens), passkeys (never their keys), sessions,
 * refresh-token grants (never their hashes), the apps (OpenID Connect
 * clients) given access, and the audit events about them.
 */
export async function exportAccount(
  { pool, logger }: AuditedDeps,
  userId: string,
  facts: RequestFacts,
) {
  const user = await findUserById(pool, userId);
  if (!user) throw new DomainError("user_not_found");
  const [accounts, passkeys, sessions, grants, apps, events] = await Promise.all([
    listLinkedAccountsOfUser(pool, userId),
    listPasskeysOfUser(pool, userId),
    listSessionsOfUser(pool, userId, 10_000),
    listRefreshTokensOfUser(pool, userId, 10_000),
    appsWithAccess(pool, userId),
    listAuditEventsAboutUser(pool, userId),
  ]);
  await recordAudit(pool, logger, {
    eventType: "account.exported",
    result: "success",
    userId,
    ...facts,
  });
  return {
    exported_at: new Date().toISOString(),
    profile: {
      ...toMeResponse(user),
      failed_login_attempts: user.failed_login_attempts,
      locked_until: user.locked_until,
      password_changed_at: user.password_changed_at,
      consent_at: user.consent_at,
      updated_at: user.updated_at,
    },
    linked_accounts: accounts,
    passkeys: passkeys.map((p) => ({ ...passkeyView(p), transports: p.transports })),
    sessions: sessions.map((s) => ({
      id: s.id,
      created_at: s.created_at,
      last_seen_at: s.last_seen_at,
      expires_at: s.expires_at,
      ip: s.ip,
      user_agent: s.user_agent,
      revoked_at: s.revoked_at,
      revoked_reason: s.revoked_reason,
    })),
    token_grants: grants.map((t) => ({
      id: t.id,
      family_id: t.family_id,
      session_id: t.session_id,
      issued_at: t.issued_at,
      expires_at: t.expires_at,
      used_at: t.used_at,
      revoked_at: t.revoked_at,
      device_info: t.device_info,
      client_id: t.client_id,
      scopes: t.scopes,
    })),
    apps_with_access: apps.map(toAppView),
    audit_events: events,
  };
}
