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
