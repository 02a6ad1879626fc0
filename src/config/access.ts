import { z } from "zod";
import { boolean, list } from "./values.ts";

/** Who becomes an administrator at sign-in, and whether sign-up records consent. */
export const accessSchema = z.object({
  ADMIN_EMAILS: list.transform((emails) => emails.map((e) => e.toLowerCase())),
  /** Record consent_at at sign-up / first sign-in (the sign-in flows read it). */
  REQUIRE_CONSENT: boolean(false),
});

export type AccessConfig = z.infer<typeof accessSchema>;
