import { Secret, TOTP } from "otpauth";

// TOTP as RFC 6238 and every authenticator app read it: HMAC-SHA-1, six
// digits, 30-second steps. The arithmetic is otpauth's (a small, maintained
// library without install scripts; its only dependency is @noble/hashes);
// which step a code belongs to, and that a step is used once, is ours.

const period = 30;
const digits = 6;
const algorithm = "SHA1";
/** One step either side: a clock 30 s off, or a code typed as it changed, still works. */
const window = 1;

const totpOf = (secretBase32: string, issuer = "", label = "") =>
  new TOTP({ issuer, label, algorithm, digits, period, secret: Secret.fromBase32(secretBase32) });

/** 160 random bits (RFC 4226 §4 recommends the HMAC's output length), base32. */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

/** The `otpauth://totp/...` URL an authenticator app reads from a QR code. */
export function otpauthUrl(secretBase32: string, issuer: string, account: string): string {
  return totpOf(secretBase32, issuer, account).toString();
}

/** Six digits, spaces allowed (apps show "123 456"); anything else is no code. */
export function normaliseTotpCode(input: string): string | null {
  const code = input.replace(/\s+/g, "");
  return /^\d{6}$/.test(code) ? code : null;
}

/**
 * The 30-second step a code belongs to, within one step of now; null when
 * the code matches none. The caller accepts a step only once (useTotpStep).
 */
export function stepOfCode(secretBase32: string, code: string, now = Date.now()): number | null {
  const totp = totpOf(secretBase32);
  const delta = totp.validate({ token: code, timestamp: now, window });
  return delta === null ? null : totp.counter({ timestamp: now }) + delta;
}

/** The code of a time (tests and tools compute what an authenticator app would show). */
export function totpCodeAt(secretBase32: string, time = Date.now()): string {
  return totpOf(secretBase32).generate({ timestamp: time });
}
