import type { Context } from "hono";
import type { z } from "zod";
import { isStorableText, refusedTextPointers } from "../text-input.ts";
import { type FieldError, Problem } from "./problem.ts";

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
      throw new Problem(400, "Malformed JSON", "The request body is not valid JSON.");
    }
  } else if (type === "application/x-www-form-urlencoded" || type === "multipart/form-data") {
    try {
      const form = await c.req.formData();
      raw = Object.fromEntries([...form.entries()].filter(([, v]) => typeof v === "string"));
    } catch {
      throw new Problem(400, "Malformed form", "The request body is not a valid form.");
    }
  } else {
    throw new Problem(
      415,
      "Unsupported Media Type",
      "Send application/json (or a urlencoded form).",
    );
  }
  // Before any field's own rule: NUL or a lone surrogate anywhere would
  // otherwise reach PostgreSQL (a 500) through any field that forgot to check.
  const unstorable = refusedTextPointers(raw, isStorableText);
  if (unstorable.length > 0) {
    throw new Problem(400, "Invalid request", "Some fields are missing or invalid.", {
      type: "urn:gatehouse:problem:validation",
      errors: unstorable.map((pointer) => ({
        pointer,
        detail: "Use text without NUL characters or lone surrogates.",
      })),
    });
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    throw new Problem(400, "Invalid request", "Some fields are missing or invalid.", {
      type: "urn:gatehouse:problem:validation",
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
