import type { DatabasePool, DatabaseTransactionConnection } from "slonik";
import { recordSuccessfulLogin, recordUserLogin, type User } from "../../sql/users.ts";
import { type RequestFacts, recordAudit } from "../audit.ts";
import type { Config } from "../config/index.ts";
import { DomainError, hasCode } from "../errors.ts";
import { grantRightsOfIdentity } from "../gate/grant-rights.ts";
import type { TokenCipher } from "../keys/token-encryption.ts";
import type { Logger } from "../logger.ts";
import type { Mailer } from "../mail/mailer.ts";
import { logins, mfaChallenges, sessionsCreated, tokensIssued } from "../metrics.ts";
import { notifyRecoveryCodeUsed } from "../mfa/recovery-code-notice.ts";
import type { SecondFactorMethod } from "../mfa/second-factor-proof.ts";
import { relyingPartyOf } from "../passkeys/relying-party.ts";
import type { RateLimitStore } from "../rate-limits/rate-limit-stores.ts";
import { createSession, invalidateSession } from "../sessions/sessions.ts";
import type { AccessTokens } from "../tokens/access-tokens.ts";
import { openTokenSession, type TokenPair, tokenPairFor } from "../tokens/token-grants.ts";
import { accountDenied, accountLocked } from "./attempt.ts";
import { recordSignInFailure } from "./failures.ts";
import type { Door, FirstFactor } from "./first-factor.ts";
import { secondFactorStep } from "./second-factor.ts";

// Every way in ends here: the password form and JSON login, the token
// password grant and the provider callback (and the ways in still to come)
// prove a first factor their own way, then call completeSignIn, which does
// the rest in one place and one transaction. A step added here (the second
// factor) cannot be skipped by a way in that someone forgot.

export type SignInDeps = {
  config: Config;
  pool: DatabasePool;
  logger: Logger;
  accessTokens: AccessTokens;
  /** The sign-in rate limits' counters: finishing a pending sign-in counts against them. */
  rateLimitStore: RateLimitStore;
  /** Opens TOTP secrets (built once by createServices, keys loaded on first use). */
  tokenCipher: () => Promise<TokenCipher>;
  /** Mails the notices a sign-in can owe its user (a recovery code used). */
  mailer: Mailer;
};

type AuditedContext = Record<string, string | number | boolean | null | readonly string[]>;

/** `recoveryCodes`: the sign-in enrolled the user's first authenticator; shown this once. */
type Enrolled = { recoveryCodes?: string[] };
export type SessionOutcome = {
  kind: "session";
  user: User;
  sessionId: string;
  secret: string;
} & Enrolled;
export type TokensOutcome = { kind: "tokens"; user: User; pair: TokenPair } & Enrolled;
/** A second factor is owed: no session or token yet, only a pending sign-in's secret. */
export type PendingOutcome = {
  kind: "pending";
  user: User;
  secret: string;
  methods: SecondFactorMethod[];
  /** Policy requires a second factor the user lacks: the pending sign-in is for enrolling one. */
  enrolment: boolean;
  expiresAt: Date;
};
/** What each door hands over once the sign-in is complete. */
export type OutcomeAt<D extends Door> = D extends { kind: "token" }
  ? TokensOutcome
  : SessionOutcome;

/**
 * Completes a sign-in whose first factor was proved, in one transaction:
 *  1. the second-factor step (src/sign-in/second-factor.ts): a user with a
 *     second factor who has not given it gets a pending sign-in and nothing
 *     else (no lockout change, no grant, no session): PendingOutcome;
 *  2. lockout bookkeeping (a password's, a passkey's or a second factor's
 *     success clears the failures) and last_login_at;
 *  3. the gate: an account that became locked or inactive meanwhile is refused;
 *  4. what the identity grants by itself (allowlist rules, ADMIN_EMAILS);
 *  5. a new session: a browser's replaces the one it came with (a planted
 *     cookie is never promoted), a token client's gets a refresh-token family;
 *  6. `login.succeeded` with the methods used (`amr`), and `token.issued`;
 * then, after the commit and nowhere else, the counters and the mail telling
 * the user a recovery code was used: a rolled-back session is no session. A refusal is recorded as a failed sign-in and thrown.
 */
export async function completeSignIn<D extends Door>(
  deps: SignInDeps,
  factor: FirstFactor,
  door: D,
  request: RequestFacts,
): Promise<OutcomeAt<D> | PendingOutcome> {
  const { pool, logger } = deps;
  let committed: Committed;
  try {
    committed = await pool.transaction((tx) =>
      completeInTransaction(tx, deps, factor, door, request),
    );
  } catch (error) {
    if (hasCode(error, "account_locked", "account_inactive")) {
      const locked = error.code === "account_locked";
      await recordSignInFailure(pool, logger, {
        method: factor.method,
        reason: locked ? "locked" : "inactive",
        userId: factor.user.id,
        ...request,
        locked,
      });
    }
    throw error;
  }
  if (committed.kind === "pending") {
    logins.inc({ method: factor.method, result: "mfa_required" });
    return committed;
  }
  logins.inc({ method: factor.method, result: "success" });
  if (factor.secondFactor) {
    const given = factor.secondFactor;
    const kind = "answer" in given ? given.answer.kind : "totp";
    mfaChallenges.inc({ method: kind, result: "success" });
    if (kind === "recovery_code") notifyRecoveryCodeUsed(deps, committed.user.id, request);
  }
  if (committed.kind === "session") {
    sessionsCreated.inc();
    return committed as OutcomeAt<D>;
  }
  tokensIssued.inc({ grant: "password" });
  const pair = await tokenPairFor(deps.accessTokens, committed.user, committed.opened);
  const { user, recoveryCodes } = committed;
  return {
    kind: "tokens",
    user,
    pair,
    ...(recoveryCodes ? { recoveryCodes } : {}),
  } as OutcomeAt<D>;
}

type Committed =
  | SessionOutcome
  | PendingOutcome
  | ({
      kind: "tokens";
      user: User;
      opened: Awaited<ReturnType<typeof openTokenSession>>;
    } & Enrolled);

async function completeInTransaction(
  tx: DatabaseTransactionConnection,
  deps: SignInDeps,
  factor: FirstFactor,
  door: Door,
  request: RequestFacts,
): Promise<Committed> {
  const { config, logger } = deps;
  const step = await secondFactorStep(
    tx,
    { config, logger, tokenCipher: deps.tokenCipher, relyingParty: relyingPartyOf(config.http) },
    factor,
    door,
    request,
  );
  if (step.kind === "pending") {
    const { secret, methods, enrolment, expiresAt } = step;
    return { kind: "pending", user: factor.user, secret, methods, enrolment, expiresAt };
  }
  const enrolled = step.recoveryCodes ? { recoveryCodes: step.recoveryCodes } : {};
  const recorded =
    factor.password || factor.provedSecret || factor.secondFactor || factor.passkey
      ? await recordSuccessfulLogin(tx, factor.user.id, factor.password?.rehash ?? null)
      : await recordUserLogin(tx, factor.user.id);
  // Locked by failures that committed between the first factor's read and now.
  if (!recorded) throw accountLocked(Math.ceil(config.limits.LOGIN_LOCKOUT / 1000));
  if (recorded.status === "locked") throw accountLocked(null);
  if (recorded.status === "denied") throw accountDenied();
  if (recorded.status !== "active") throw new DomainError("account_inactive");

  const identity = factor.identity ?? {
    email: recorded.email,
    emailVerified: recorded.email_verified,
  };
  const user = await grantRightsOfIdentity(tx, deps, recorded, identity, {
    ...request,
    via: `${factor.method}_login`,
  });

  const audited = (sessionId: string): AuditedContext => ({
    method: factor.method,
    amr: step.amr,
    session_id: sessionId,
    ...(factor.password ? { rehashed: factor.password.rehash !== null } : {}),
    ...factor.context,
  });
  if (door.kind === "token") {
    const opened = await openTokenSession(
      tx,
      deps,
      user.id,
      { type: "password", amr: step.amr },
      request,
    );
    await recordAudit(tx, logger, {
      eventType: "login.succeeded",
      result: "success",
      userId: user.id,
      ...request,
      context: audited(opened.sessionId),
    });
    return { kind: "tokens", user, opened, ...enrolled };
  }
  if (door.replaces) await invalidateSession(tx, door.replaces, "replaced by a new sign-in");
  const { session, secret } = await createSession(tx, {
    userId: user.id,
    amr: step.amr,
    ttlMs: config.session.SESSION_TTL,
    idleTtlMs: config.session.SESSION_IDLE_TTL,
    ...request,
  });
  await recordAudit(tx, logger, {
    eventType: "login.succeeded",
    result: "success",
    userId: user.id,
    ...request,
    context: audited(session.id),
  });
  return { kind: "session", user, sessionId: session.id, secret, ...enrolled };
}
