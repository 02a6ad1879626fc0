import { z } from "zod";

/**
 * Text a person typed that we store and show: well-formed Unicode without
 * control characters. PostgreSQL refuses NUL in text (a 500 if it got that
 * far), a lone surrogate is not text, and control characters have no place
 * in a name or an address.
 */
export function isPrintableText(text: string): boolean {
  return text.isWellFormed() && !/\p{Cc}/u.test(text);
}

/** A free-text field of at most `max` characters, printable. */
export const printableText = (max: number) =>
  z.string().max(max).refine(isPrintableText, "Use printable characters only.");

/** An email address as sign-up, sign-in, the allowlist and the CLI accept one. */
export const emailAddress = z
  .string()
  .trim()
  .max(254, "Use at most 254 characters.")
  .pipe(z.email("Enter an email address."))
  .refine(isPrintableText, "Enter an email address.");

/**
 * A domain an email address can be at: exactly the domains `emailAddress`
 * accepts after the `@`, so an allowlist domain rule names mail domains and
 * nothing looser (no wildcards, no `%`, no bare host names).
 */
export const mailDomain = z
  .string()
  .trim()
  .toLowerCase()
  .min(1)
  .max(253)
  .regex(
    /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/,
    "expected a domain name such as example.com",
  )
  .refine(
    (domain) => emailAddress.safeParse(`postmaster@${domain}`).success,
    "expected a domain name such as example.com",
  );

/**
 * Text no field of ours can hold, whatever it is for: NUL (PostgreSQL's text
 * refuses it) or a lone surrogate (not Unicode). Passwords may hold other
 * control characters, so only these two are refused across a whole body.
 */
export function isStorableText(text: string): boolean {
  return text.isWellFormed() && !text.includes("\u0000");
}

/** JSON pointers (RFC 6901) of every string, key included, that `accept` refuses. */
export function refusedTextPointers(
  value: unknown,
  accept: (text: string) => boolean,
  at = "#",
): string[] {
  if (typeof value === "string") return accept(value) ? [] : [at];
  if (!value || typeof value !== "object") return [];
  const found: string[] = [];
  for (const [key, item] of Object.entries(value)) {
    const pointer = `${at}/${key.replaceAll("~", "~0").replaceAll("/", "~1")}`;
    if (!accept(key)) found.push(pointer.toWellFormed());
    else found.push(...refusedTextPointers(item, accept, pointer));
  }
  return found;
}
