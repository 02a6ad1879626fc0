import { createHmac } from "node:crypto";
import { type CommonQueryMethods, sql } from "slonik";

// RFC 6238 computed here from the secret, independently of the library the
// service uses: what an authenticator app would show.

function base32Decode(text: string): Buffer {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const char of text.replace(/=+$/, "").toUpperCase()) {
    const value = alphabet.indexOf(char);
    if (value < 0) throw new Error(`not base32: ${char}`);
    bits += value.toString(2).padStart(5, "0");
  }
  const bytes = bits.match(/.{8}/g) ?? [];
  return Buffer.from(bytes.map((b) => Number.parseInt(b, 2)));
}

export const stepNow = (time = Date.now()) => Math.floor(time / 1000 / 30);

/** The six-digit code of a 30-second step (RFC 4226 §5.3 dynamic truncation, SHA-1). */
export function totpCode(secretBase32: string, step: number): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac("sha1", base32Decode(secretBase32)).update(counter).digest();
  const offset = (mac[mac.length - 1] ?? 0) & 0xf;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 1_000_000).padStart(6, "0");
}

/**
 * A code for a step after the user's last used one, as if time moved on when
 * it must (a used step is refused): moves last_used_step back when the next
 * free step would lie beyond the ±1 window.
 */
export async function nextCode(
  db: CommonQueryMethods,
  userId: string,
  secret: string,
): Promise<string> {
  const last = (await db.maybeOneFirst(sql.unsafe`
    SELECT last_used_step FROM mfa_totp WHERE user_id = ${userId}`)) as number | null;
  const now = stepNow();
  let step = Math.max(last === null ? now : Number(last) + 1, now);
  if (step > now + 1) {
    await db.query(sql.unsafe`
      UPDATE mfa_totp SET last_used_step = ${now - 1} WHERE user_id = ${userId}`);
    step = now;
  }
  return totpCode(secret, step);
}
