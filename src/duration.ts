const units: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** `90s`, `15m`, `12h`, `30d`, `250ms`, or a bare number of seconds → milliseconds; null when malformed. */
export function parseDuration(value: string): number | null {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(value.trim());
  if (!match) return null;
  const amount = Number(match[1]);
  const ms = amount * (units[match[2] ?? "s"] ?? 1000);
  return Number.isSafeInteger(ms) && ms > 0 ? ms : null;
}
