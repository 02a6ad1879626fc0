import nodemailer from "nodemailer";
import type { Config } from "../config/index.ts";
import type { Logger } from "../logger.ts";
import { mails } from "../metrics.ts";
import type { MailBrand, MailContent, MailDraft } from "./templates.ts";

export type OutboxEntry = MailContent & { to: string; from: string; queuedAt: string };

export type Mailer = {
  /** Completes the draft with the branding and sends it now; rejects when the mail server cannot be reached or refuses. */
  send(to: string, draft: MailDraft): Promise<void>;
  /** Messages kept for GET /dev/outbox, newest last; null when the outbox is off. */
  outbox: OutboxEntry[] | null;
};

const outboxSize = 100;

/** The development outbox: only without SMTP, never in production, on by default in development. */
export function outboxEnabled(config: Pick<Config, "mail" | "runtime">): boolean {
  if (config.runtime.NODE_ENV === "production" || config.mail.SMTP_URL) return false;
  return config.mail.DEV_OUTBOX ?? config.runtime.NODE_ENV === "development";
}

/**
 * SMTP_URL set: SMTP through nodemailer (`smtps://` is TLS from the start;
 * `smtp://` upgrades with STARTTLS when the server offers it). Unset: the
 * message is not sent; the log says one was queued (to and subject only: a
 * mail's link is a credential) and the development outbox keeps it whole.
 * In production without SMTP_URL sending fails, like a server that is down.
 */
export function createMailer(
  config: Pick<Config, "mail" | "runtime" | "branding">,
  logger: Logger,
): Mailer {
  const brand: MailBrand = {
    name: config.branding.APP_NAME,
    supportUrl: config.branding.SUPPORT_URL ?? null,
  };
  if (config.mail.SMTP_URL) {
    const transport = nodemailer.createTransport({
      url: config.mail.SMTP_URL,
      connectionTimeout: config.mail.SMTP_TIMEOUT,
      greetingTimeout: config.mail.SMTP_TIMEOUT,
      socketTimeout: config.mail.SMTP_TIMEOUT,
    });
    return {
      outbox: null,
      async send(to, draft) {
        const content = draft(brand);
        try {
          await transport.sendMail({ from: config.mail.MAIL_FROM, to, ...content });
        } catch (error) {
          mails.inc({ result: "failed" });
          throw error;
        }
        mails.inc({ result: "sent" });
        logger.info({ subject: content.subject }, "mail sent");
      },
    };
  }
  const outbox = outboxEnabled(config) ? ([] as OutboxEntry[]) : null;
  return {
    outbox,
    async send(to, draft) {
      const content = draft(brand);
      if (config.runtime.NODE_ENV === "production") {
        mails.inc({ result: "failed" });
        throw new Error("SMTP_URL is not set: mail cannot be delivered");
      }
      mails.inc({ result: "kept" });
      outbox?.push({
        ...content,
        to,
        from: config.mail.MAIL_FROM,
        queuedAt: new Date().toISOString(),
      });
      if (outbox && outbox.length > outboxSize) outbox.shift();
      logger.info(
        { to, subject: content.subject, outbox: outbox ? "/dev/outbox" : null },
        "mail queued without SMTP_URL (not sent)",
      );
    },
  };
}
