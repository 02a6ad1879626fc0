import { z } from "zod";
import { boolean, duration } from "./values.ts";

/** Where webhooks may be sent and how long a failing delivery is retried. */
export const webhooksSchema = z.object({
  /**
   * Lets endpoints on loopback, link-local, private and unique-local
   * addresses (and plain http in production) be added and delivered to. Off,
   * an administrator's URL cannot reach into the network Gatehouse runs in.
   */
  WEBHOOK_ALLOW_PRIVATE: boolean(false),
  /** The wait after a delivery's first failure; each further failure doubles it. */
  WEBHOOK_RETRY_DELAY: duration("30s"),
  /** How long after the event a failing delivery is still retried before it is marked failed. */
  WEBHOOK_RETRY_WINDOW: duration("24h"),
  /** How long one delivery request may take before it counts as failed. */
  WEBHOOK_TIMEOUT: duration("10s"),
});

export type WebhooksConfig = z.infer<typeof webhooksSchema>;
