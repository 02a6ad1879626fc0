import { parsedText } from "../config/values.ts";
import { parseDuration } from "../duration.ts";

export type RateLimitSetting = { limit: number; windowMs: number };

/** `20/5m`: at most 20 requests per 5-minute window. */
export function parseRateLimitSetting(value: string): RateLimitSetting | null {
  const match = /^(\d{1,9})\/(\S+)$/.exec(value.trim());
  if (!match) return null;
  const windowMs = parseDuration(match[2] ?? "");
  const limit = Number(match[1]);
  return windowMs !== null && limit > 0 ? { limit, windowMs } : null;
}

/** A config entry `COUNT/DURATION`, e.g. `20/5m`. */
export const rateLimitSetting = (fallback: string) =>
  parsedText(fallback, parseRateLimitSetting, "expected COUNT/DURATION like 20/5m");
