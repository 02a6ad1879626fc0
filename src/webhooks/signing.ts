import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";

// Standard Webhooks signing, by the same package receivers verify with:
// `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.

/** A new endpoint secret: `whsec_` and 32 random bytes in base64 (24 to 64 are allowed). */
export const newWebhookSecret = () => `whsec_${randomBytes(32).toString("base64")}`;

/** The headers that carry and sign one delivery's body. */
export function signedHeaders(
  secret: string,
  delivery: { id: string; body: string; at: Date },
): Record<string, string> {
  const timestamp = Math.floor(delivery.at.getTime() / 1000);
  return {
    "webhook-id": delivery.id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": new Webhook(secret).sign(delivery.id, delivery.at, delivery.body),
  };
}
