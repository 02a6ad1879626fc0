import type { User } from "../../sql/users.ts";
import { recordAudit } from "../audit.ts";
import type { Config } from "../config/index.ts";
import { type MailDraft, passwordChangedMail, verificationMail } from "../mail/templates.ts";
import type { AccountDeps, RequestFacts } from "./accounts.ts";
import { issueEmailToken } from "./email-tokens.ts";

// The mails of the password account flows, sent after the request is answered.

/** What sending a mail after the answer needs. */
export type MailDeps = Pick<AccountDeps, "mailer" | "pool" | "logger">;

export const link = (deps: { config: Pick<Config, "http"> }, path: string, token?: string) =>
  `${deps.config.http.PUBLIC_URL}${path}${token ? `?token=${token}` : ""}`;

/** The confirmation mail: one token, two links (confirm when signed in; "this was not me"). */
export const confirmationMail = (deps: AccountDeps, token: string) =>
  verificationMail(
    {
      confirm: link(deps, "/auth/email/verify", token),
      notMe: link(deps, "/auth/email/not-me", token),
    },
    deps.config.passwords.EMAIL_VERIFICATION_TTL,
  );

/**
 * Sends a mail after the request is answered. A mail server that is down
 * loses no request: the change is already committed, the failure is logged
 * and audited (`mail.failed`), and the user can ask again (resend, forgot).
 */
export function deliverLater(
  deps: MailDeps,
  mail: { to: string; content: MailDraft; userId: string | null; purpose: string },
  facts: RequestFacts,
): void {
  deps.mailer.send(mail.to, mail.content).catch(async (error: unknown) => {
    deps.logger.error(
      { err: error, purpose: mail.purpose, userId: mail.userId },
      "mail could not be sent",
    );
    await recordAudit(deps.pool, deps.logger, {
      eventType: "mail.failed",
      result: "failure",
      userId: mail.userId,
      failureReason: mail.purpose,
      ...facts,
      context: { error: error instanceof Error ? error.message.slice(0, 200) : "unknown" },
    });
  });
}

/** Work whose outcome must not show in the answer (nor in its timing): done after answering. */
export function afterAnswering(
  deps: Pick<AccountDeps, "logger">,
  label: string,
  work: () => Promise<void>,
): void {
  work().catch((error: unknown) => deps.logger.error({ err: error }, `${label} failed`));
}

/** Tells the owner their password changed, with a way back in if it was not them. */
export function notifyPasswordChanged(deps: AccountDeps, user: User, facts: RequestFacts): void {
  if (!user.email) return;
  deliverLater(
    deps,
    {
      to: user.email,
      content: passwordChangedMail(link(deps, "/auth/password/forgot")),
      userId: user.id,
      purpose: "password_changed_notice",
    },
    facts,
  );
}

/**
 * A mail link on request (resend, forgot): a fresh token for the user (older
 * unused ones of the purpose stop working), the request audited, the mail sent.
 */
export async function sendLinkMail(
  deps: AccountDeps,
  user: User & { email: string },
  request: {
    purpose: "email_verification" | "password_reset";
    ttlMs: number;
    eventType: string;
    content: (token: string) => MailDraft;
  },
  facts: RequestFacts,
): Promise<void> {
  const token = await issueEmailToken(deps.pool, user.id, request.purpose, request.ttlMs);
  await recordAudit(deps.pool, deps.logger, {
    eventType: request.eventType,
    result: "success",
    userId: user.id,
    ...facts,
  });
  deliverLater(
    deps,
    { to: user.email, content: request.content(token), userId: user.id, purpose: request.purpose },
    facts,
  );
}
