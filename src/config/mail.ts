import { z } from "zod";
import { duration, optionalBoolean, urlWithScheme } from "./values.ts";

/** How mail leaves: SMTP, or in development the in-memory outbox. */
export const mailSchema = z.object({
  SMTP_URL: urlWithScheme(["smtp:", "smtps:"], "smtp://user:password@mail.example.com:587"),
  MAIL_FROM: z.string().trim().min(3).default("Gatehouse <gatehouse@localhost>"),
  SMTP_TIMEOUT: duration("10s"),
  /** GET /dev/outbox; unset: on in development only; never served in production. */
  DEV_OUTBOX: optionalBoolean,
});

export type MailConfig = z.infer<typeof mailSchema>;
