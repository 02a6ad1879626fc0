import type { Context } from "hono";
import type { z } from "zod";
import { isPrintableText } from "../text-input.ts";
import { type TextRule, validatedInput } from "./validated-input.ts";

// Nothing a query string carries is a password: every value is printable text.
const printableText: TextRule = {
  accepts: isPrintableText,
  detail: "Use printable characters only.",
};

/** Validates the query string (first value of each parameter); invalid → 400 naming each one. */
export function readQuery<Schema extends z.ZodType>(c: Context, schema: Schema): z.infer<Schema> {
  return validatedInput(c.req.query(), schema, printableText, "Some query parameters are invalid.");
}
