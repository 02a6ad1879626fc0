import { z } from "zod";
import { parseDuration } from "../duration.ts";

// The value types environment variables are written in, shared by the
// sections. Each names what it expected in its error message, which becomes
// the `NAME: message` line at start-up.

export const integer = (fallback: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, "expected an integer")
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, `expected an integer >= ${min}`)
        .max(max, `expected an integer <= ${max}`),
    )
    .default(fallback);

/** A text setting `parse` turns into a value; null from it is the error `expected`. */
export const parsedText = <T>(
  fallback: string,
  parse: (text: string) => T | null,
  expected: string,
) =>
  z
    .string()
    .trim()
    .default(fallback)
    .transform((value, ctx) => {
      const parsed = parse(value);
      if (parsed === null) {
        ctx.addIssue({ code: "custom", message: expected });
        return z.NEVER;
      }
      return parsed;
    });

export const duration = (fallback: string) =>
  parsedText(fallback, parseDuration, "expected a duration like 90s, 15m, 12h or 30d");

const booleanText = z.enum(["true", "false", "1", "0", "yes", "no"], {
  message: "expected true or false",
});
const isTrue = (v: string) => v === "true" || v === "1" || v === "yes";

export const boolean = (fallback: boolean) =>
  booleanText.default(fallback ? "true" : "false").transform(isTrue);

/** Unset stays undefined, for settings whose default depends on another one. */
export const optionalBoolean = booleanText
  .optional()
  .transform((v) => (v === undefined ? undefined : isTrue(v)));

export const list = z
  .string()
  .default("")
  .transform((v) =>
    v
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  );

export const optionalText = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v === "" ? undefined : v));

export const urlWithScheme = (schemes: string[], example: string) =>
  optionalText.refine((v) => {
    if (v === undefined) return true;
    try {
      const url = new URL(v);
      return schemes.includes(url.protocol) && url.hostname !== "";
    } catch {
      return false;
    }
  }, `expected a URL like ${example}`);

export const httpUrl = z
  .string()
  .trim()
  .refine((v) => {
    try {
      const u = new URL(v);
      return u.protocol === "http:" || u.protocol === "https:";
    } catch {
      return false;
    }
  }, "expected an http(s) URL");

// `kid:base64key,...`; the first key encrypts (or signs), all of them decrypt (or verify).
export const symmetricKeys = list.transform((entries, ctx) => {
  const keys: { id: string; key: Uint8Array<ArrayBuffer> }[] = [];
  for (const entry of entries) {
    const colon = entry.indexOf(":");
    const id = entry.slice(0, colon);
    const key = Buffer.from(entry.slice(colon + 1), "base64");
    if (colon < 1 || !/^[A-Za-z0-9_-]{1,32}$/.test(id) || key.length !== 32) {
      ctx.addIssue({
        code: "custom",
        message: "expected kid:base64 entries, each key 32 bytes (openssl rand -base64 32)",
      });
      return z.NEVER;
    }
    keys.push({ id, key: new Uint8Array(key) as Uint8Array<ArrayBuffer> });
  }
  return keys;
});
