import type { Context } from "hono";
import type { z } from "zod";
import { DomainError } from "../errors.ts";
import { isStorableText } from "../text-input.ts";
import { type TextRule, validatedInput } from "./validated-input.ts";

/**
 * Reads and validates a request body: JSON, or a urlencoded/multipart form.
 * Malformed or invalid input is a 400 problem with per-field `errors`; a
 * body of another type is 415.
 */
export async function readBody<Schema extends z.ZodType>(
  c: Context,
  schema: Schema,
): Promise<z.infer<Schema>> {
  const type = c.req.header("content-type")?.split(";")[0]?.trim().toLowerCase() ?? "";
  let raw: unknown;
  if (type === "application/json" || type.endsWith("+json")) {
    try {
      raw = await c.req.json();
    } catch {
      throw new DomainError("malformed_json");
    }
  } else if (type === "application/x-www-form-urlencoded" || type === "multipart/form-data") {
    try {
      const form = await c.req.formData();
      raw = Object.fromEntries([...form.entries()].filter(([, v]) => typeof v === "string"));
    } catch {
      throw new DomainError("malformed_form");
    }
  } else {
    throw new DomainError("unsupported_media_type");
  }
  return validatedInput(raw, schema, storableText);
}

/** NUL or a lone surrogate cannot be stored in PostgreSQL text. */
const storableText: TextRule = {
  accepts: isStorableText,
  detail: "Use text without NUL characters or lone surrogates.",
};
