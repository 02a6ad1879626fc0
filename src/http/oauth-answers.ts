import type { Context } from "hono";
import { z } from "zod";
import { DomainError } from "../errors.ts";
import { isStorableText, refusedTextPointers } from "../text-input.ts";
import type { TokenPair } from "../tokens/token-grants.ts";
import { oauthErrorOf } from "./error-map.ts";

// The token endpoint's wire format, OAuth 2.0 (RFC 6749 §5) rather than
// problem+json: how it reads a request (a form or JSON) and how it answers.

/**
 * The fields of a JSON or urlencoded body; null when it is neither, is
 * malformed, or carries text no field can hold (readBody's rule).
 */
/** The request's fields, or why they cannot be read (an RFC 6749 error description). */
export async function readFields(
  c: Context,
): Promise<{ fields: Record<string, unknown> } | { refused: string }> {
  const type = c.req.header("content-type")?.split(";")[0]?.trim().toLowerCase() ?? "";
  let fields: Record<string, unknown> | null = null;
  try {
    if (type === "application/json") {
      const body: unknown = await c.req.json();
      if (typeof body === "object" && body !== null && !Array.isArray(body)) {
        fields = body as Record<string, unknown>;
      }
    } else if (type === "application/x-www-form-urlencoded") {
      fields = Object.fromEntries(new URLSearchParams(await c.req.text()));
    }
  } catch {
    fields = null;
  }
  if (!fields) return { refused: "Send application/x-www-form-urlencoded or application/json." };
  const unstorable = refusedTextPointers(fields, isStorableText);
  if (unstorable.length > 0) {
    return {
      refused: `${unstorable.join(", ")}: use text without NUL characters or lone surrogates.`,
    };
  }
  return { fields };
}

export const tokenResponse = z
  .object({
    access_token: z.string(),
    token_type: z.literal("Bearer"),
    expires_in: z.number().int(),
    refresh_token: z.string(),
  })
  .meta({ id: "TokenPair", description: "RFC 6749 §5.1 access token response" });

export function answer(c: Context, pair: TokenPair) {
  // RFC 6749 §5.1: responses carrying tokens must not be cached.
  c.header("cache-control", "no-store");
  c.header("pragma", "no-cache");
  return c.json(pair, 200);
}

/**
 * A refusal in OAuth dress (error-map.ts): a wrong password, a lock or an
 * inactive account is `invalid_grant` with the same description /auth/login
 * gives, and Retry-After when it has one; a rate limit stays 429.
 */
export function refusal(c: Context, error: DomainError) {
  const { status, body, headers } = oauthErrorOf(error);
  for (const [name, value] of Object.entries(headers)) c.header(name, value);
  c.header("cache-control", "no-store");
  c.header("pragma", "no-cache");
  return c.json(body, status);
}

/** A malformed or incomplete grant: RFC 6749 `invalid_request`. */
export const invalidRequest = (detail: string) => new DomainError("validation_failed", { detail });
