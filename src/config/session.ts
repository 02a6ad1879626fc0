import { z } from "zod";
import { parseDuration } from "../duration.ts";
import { duration, integer } from "./values.ts";

/** How long a browser session lives, and how long a replica may trust what it checked. */
export const sessionSchema = z.object({
  SESSION_TTL: duration("30d"),
  SESSION_IDLE_TTL: duration("7d"),
  /**
   * How recent the session's last full sign-in or step-up (POST /auth/reauth)
   * must be for a sensitive change (src/http/recent-auth.ts).
   */
  REAUTH_MAX_AGE: duration("10m"),
  /**
   * How long a replica may reuse a validated session or bearer-token check
   * (src/sessions/credential-cache.ts): the bound on staleness should change
   * notifications fail unnoticed by the listener's heartbeat. 0: no cache.
   */
  AUTH_CACHE_TTL: z
    .string()
    .trim()
    .default("1s")
    .transform((value, ctx) => {
      const ms = value === "0" ? 0 : parseDuration(value);
      if (ms === null || ms > 60_000) {
        ctx.addIssue({ code: "custom", message: "expected 0 or a duration up to 60s, like 1s" });
        return z.NEVER;
      }
      return ms;
    }),
  /**
   * How many checks a replica keeps at most (about 1 KB each, so 50 MB by
   * default); the oldest goes first. Only matters with a longer
   * AUTH_CACHE_TTL: at 1s a replica holds one entry per caller of the last
   * second.
   */
  AUTH_CACHE_MAX_ENTRIES: integer(50_000, { min: 1, max: 10_000_000 }),
});

export type SessionConfig = z.infer<typeof sessionSchema>;
