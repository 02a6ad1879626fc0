import type { Context } from "hono";
import type { z } from "zod";
import { DomainError } from "../errors.ts";
import { isPrintableText, refusedTextPointers } from "../text-input.ts";
import { fieldErrors } from "./json-body.ts";

const queryInvalid = "Some query parameters are invalid.";

/** Validates the query string (first value of each parameter); invalid → 400 naming each one. */
export function readQuery<Schema extends z.ZodType>(c: Context, schema: Schema): z.infer<Schema> {
  const raw = c.req.query();
  // Nothing a query string carries is a password: every value is printable text.
  const unprintable = refusedTextPointers(raw, isPrintableText);
  if (unprintable.length > 0) {
    throw new DomainError("validation_failed", {
      detail: queryInvalid,
      errors: unprintable.map((pointer) => ({
        pointer,
        detail: "Use printable characters only.",
      })),
    });
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    throw new DomainError("validation_failed", {
      detail: queryInvalid,
      errors: fieldErrors(result.error),
    });
  }
  return result.data;
}
