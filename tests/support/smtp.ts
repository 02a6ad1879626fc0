import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

export type ReceivedMail = {
  to: string[];
  /** Received over TLS. */
  secure: boolean;
  subject: string;
  /** The whole message, quoted-printable soft breaks and escapes decoded. */
  source: string;
};

export type TestSmtpServer = {
  url: string;
  port: number;
  received: ReceivedMail[];
  /** The first mail to `to` (matching `subject` when given) received so far or within the timeout. */
  waitForMail: (to: string, subject?: RegExp, timeoutMs?: number) => Promise<ReceivedMail>;
  close: () => Promise<void>;
};

function decodeQuotedPrintable(text: string): string {
  return text
    .replace(/=\r?\n/g, "")
    .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/**
 * A real SMTP server on 127.0.0.1 (no auth) that keeps what it receives.
 * Plain by default; `secure` speaks TLS from the first byte (smtps) with
 * smtp-server's built-in self-signed certificate.
 */
export async function startTestSmtpServer(
  port = 0,
  { secure = false }: { secure?: boolean } = {},
): Promise<TestSmtpServer> {
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    secure,
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const source = decodeQuotedPrintable(Buffer.concat(chunks).toString("utf8"));
        received.push({
          to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
          secure: session.secure,
          subject: /^Subject: (.*)$/m.exec(source)?.[1]?.trim() ?? "",
          source,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const actualPort = (server.server.address() as AddressInfo).port;
  return {
    url: secure
      ? `smtps://127.0.0.1:${actualPort}/?tls.rejectUnauthorized=false`
      : `smtp://127.0.0.1:${actualPort}`,
    port: actualPort,
    received,
    async waitForMail(to, subject, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const mail = received.find(
          (m) => m.to.includes(to.toLowerCase()) && (!subject || subject.test(m.subject)),
        );
        if (mail) return mail;
        await Bun.sleep(20);
      }
      throw new Error(`no mail to ${to} within ${timeoutMs} ms`);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The token of the first link to `path` in a mail. */
export function tokenFromMail(mail: ReceivedMail, path: string): string {
  const match = new RegExp(`https?://[^\\s"<>]*${path}\\?token=([A-Za-z0-9_-]{43})`).exec(
    mail.source,
  );
  if (!match?.[1]) throw new Error(`no ${path} link in the mail "${mail.subject}"`);
  return match[1];
}
