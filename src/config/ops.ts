import { z } from "zod";
import { duration, integer, optionalText, symmetricKeys } from "./values.ts";

/** Cleanup, backups and the metrics endpoint. */
export const opsSchema = z.object({
  AUDIT_RETENTION_DAYS: integer(90, { min: 1 }),
  CLEANUP_INTERVAL: duration("1h"),
  CLEANUP_GRACE_PERIOD: duration("7d"),
  BACKUP_DIR: z.string().trim().min(1).default(".data/backups"),
  BACKUP_RETENTION: duration("30d"),
  // kid:base64 keys (32 bytes) for the backups' HMAC; the first signs, all verify.
  BACKUP_SIGNING_KEYS: symmetricKeys,
  METRICS_TOKEN: optionalText,
});

export type OpsConfig = z.infer<typeof opsSchema>;
