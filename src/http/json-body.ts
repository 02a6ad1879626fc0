import type { Context } from "hono";
import type { z } from "zod";
import { DomainError, type FieldError } from "../errors.ts";
import { isStorableText, refusedTextPointers } from "../text-input.ts";

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
  // Before any field's own rule: NUL or a lone surrogate anywhere would
  // otherwise reach PostgreSQL (a 500) through any field that forgot to check.
  const unstorable = refusedTextPointers(raw, isStorableText);
  if (unstorable.length > 0) {
    throw new DomainError("validation_failed", {
      errors: unstorable.map((pointer) => ({
        pointer,
        detail: "Use text without NUL characters or lone surrogates.",
      })),
    });
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    throw new DomainError("validation_failed", {
      errors: fieldErrors(result.error),
    });
  }
  return result.data;
}

export function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => ({
    pointer: `#/${issue.path.map((p) => String(p).replaceAll("~", "~0").replaceAll("/", "~1")).join("/")}`,
    detail: issue.message,
  }));
}
