import type { Context } from "hono";
import type { z } from "zod";
import { fieldErrors } from "./json-body.ts";
import { Problem } from "./problem.ts";

/** Validates the query string (first value of each parameter); invalid → 400 naming each one. */
export function readQuery<Schema extends z.ZodType>(c: Context, schema: Schema): z.infer<Schema> {
  const result = schema.safeParse(c.req.query());
  if (!result.success) {
    throw new Problem(400, "Invalid request", "Some query parameters are invalid.", {
      type: "urn:gatehouse:problem:validation",
      errors: fieldErrors(result.error),
    });
  }
  return result.data;
}
