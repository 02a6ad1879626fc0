import type { z } from "zod";
import { DomainError, type FieldError } from "../errors.ts";
import { refusedTextPointers } from "../text-input.ts";

/** What every text value of an input must be, and how a refusal says so. */
export type TextRule = { accepts: (text: string) => boolean; detail: string };

/**
 * Checks every text value against `rule` before any field's own rule (so no
 * field that forgot to check lets such text reach PostgreSQL), then parses
 * with `schema`. Either failure is a 400 `validation_failed` naming each
 * field by its JSON pointer; `detail` says what the input was.
 */
export function validatedInput<Schema extends z.ZodType>(
  raw: unknown,
  schema: Schema,
  rule: TextRule,
  detail?: string,
): z.infer<Schema> {
  const described = detail ? { detail } : {};
  const refused = refusedTextPointers(raw, rule.accepts);
  if (refused.length > 0) {
    const errors = refused.map((pointer) => ({ pointer, detail: rule.detail }));
    throw new DomainError("validation_failed", { ...described, errors });
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    throw new DomainError("validation_failed", { ...described, errors: fieldErrors(result.error) });
  }
  return result.data;
}

export function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => ({
    pointer: `#/${issue.path.map((p) => String(p).replaceAll("~", "~0").replaceAll("/", "~1")).join("/")}`,
    detail: issue.message,
  }));
}
