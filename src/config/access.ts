import { z } from "zod";
import { boolean, duration, list, urlWithScheme } from "./values.ts";

/**
 * Who becomes an administrator at sign-in, whether sign-up records consent,
 * the approval queue's mails, and how often GitHub memberships are re-checked.
 */
export const accessSchema = z.object({
  ADMIN_EMAILS: list.transform((emails) => emails.map((e) => e.toLowerCase())),
  /** Record consent_at at sign-up / first sign-in (the sign-in flows read it). */
  REQUIRE_CONSENT: boolean(false),
  /** At most one mail per administrator this often about users waiting for approval. */
  APPROVAL_DIGEST_INTERVAL: duration("15m"),
  /** Where the mail telling a user they were approved sends them; PUBLIC_URL when unset. */
  APPROVED_REDIRECT_URL: urlWithScheme(["http:", "https:"], "https://app.example.com/"),
  /** How often users a GitHub organisation or team rule let in have their memberships read again. */
  GITHUB_RECHECK_INTERVAL: duration("6h"),
});

export type AccessConfig = z.infer<typeof accessSchema>;
