import { z } from "zod";
import { duration, integer } from "./values.ts";

/** Email + password accounts: the password rule, its hash cost, and the lives of mailed links. */
export const passwordsSchema = z.object({
  /** NIST SP 800-63B: at least 8; 15 when the password is the only factor. */
  PASSWORD_MIN_LENGTH: integer(8, { min: 8, max: 128 }),
  /** argon2id cost; the defaults are OWASP's (19 MiB, 2 passes, 1 lane). */
  PASSWORD_HASH_MEMORY_KIB: integer(19456, { min: 7168, max: 4_194_304 }),
  PASSWORD_HASH_TIME_COST: integer(2, { min: 1, max: 50 }),
  EMAIL_VERIFICATION_TTL: duration("24h"),
  PASSWORD_RESET_TTL: duration("1h"),
});

export type PasswordsConfig = z.infer<typeof passwordsSchema>;
